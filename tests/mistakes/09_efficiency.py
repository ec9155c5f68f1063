"""Assignment 09: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) quantize_per_channel
    "one_scale_per_tensor": {"cell": "quantize_per_channel", "replace": [("W.abs().amax(dim=1, keepdim=True)", "W.abs().max().reshape(1, 1)")],
                             "expect": "one scale per output row"},
    "scale_over_columns": {"cell": "quantize_per_channel", "replace": [("amax(dim=1, keepdim=True)", "amax(dim=0, keepdim=True)")],
                           "expect": "one scale per output row"},
    "divide_by_128": {"cell": "quantize_per_channel", "replace": [("amax / 127", "amax / 128"), ("clamp(-127, 127)", "clamp(-128, 127)")],
                      "expect": "divide by 127"},
    "floor_not_round": {"cell": "quantize_per_channel", "replace": [("torch.round(W / s)", "torch.floor(W / s)")],
                        "expect": "round, do not truncate"},
    "truncate_by_cast": {"cell": "quantize_per_channel", "replace": [("torch.round(W / s)", "(W / s)")],
                         "expect": "round, do not truncate"},
    "float_codes": {"cell": "quantize_per_channel", "replace": [(".to(torch.int8)", "")], "expect": "int8 tensor"},
    "zero_row_divides_by_zero": {"cell": "quantize_per_channel", "replace": [(
        "torch.where(amax > 0, amax / 127, torch.ones_like(amax))", "amax / 127")], "expect": "must not divide by zero"},
    "quantise_imports_library": {"cell": "quantize_per_channel", "code": (
        "from course_lib.quantize import quantize\n\n"
        "def quantize_per_channel(W):\n"
        "    qt = quantize(W, bits=8, granularity='channel')\n"
        "    return qt.codes().to(torch.int8), qt.scale.float()"), "expect": "course_lib"},
    # (b) lora_forward
    "no_alpha_over_r": {"cell": "lora_forward", "replace": [("(alpha / r) * ", "")], "expect": "alpha / r"},
    "alpha_only": {"cell": "lora_forward", "replace": [("(alpha / r) * ", "alpha * ")], "expect": "alpha / r"},
    "alpha_times_r": {"cell": "lora_forward", "replace": [("(alpha / r) * ", "(alpha * r) * ")], "expect": "alpha / r"},
    "forgets_bias": {"cell": "lora_forward", "replace": [("x @ W.T + b + ", "x @ W.T + ")], "expect": "bias"},
    "transposes_wrong": {"cell": "lora_forward", "replace": [("((x @ A.T) @ B.T)", "((x @ A) @ B)")], "expect": "x A^T"},
    "lora_imports_library": {"cell": "lora_forward", "code": (
        "import torch.nn as nn\nfrom course_lib.models.lora import LoRALinear\n\n"
        "def lora_forward(x, W, b, A, B, alpha):\n"
        "    lin = nn.Linear(W.shape[1], W.shape[0])\n"
        "    lin.weight.data, lin.bias.data = W, b\n"
        "    layer = LoRALinear(lin, A.shape[0], alpha)\n"
        "    layer.lora_A['default'].data, layer.lora_B['default'].data = A, B\n"
        "    return layer(x).detach()"), "expect": "course_lib"},
    # (c) lora_merge
    "merge_unscaled": {"cell": "lora_merge", "replace": [("(alpha / A.shape[0]) * ", "")], "expect": "alpha / r"},
    "merge_in_place": {"cell": "lora_merge", "code": (
        "def lora_merge(W, A, B, alpha):\n"
        "    W += (alpha / A.shape[0]) * (B @ A)\n"
        "    return W"), "expect": "must not change w itself"},
    "merge_a_at_b": {"cell": "lora_merge", "replace": [("(B @ A)", "(A.T @ B.T)")], "expect": "B @ A"},
    "merge_imports_library": {"cell": "lora_merge", "code": (
        "import torch.nn as nn\nfrom course_lib.models.lora import LoRALinear\n\n"
        "def lora_merge(W, A, B, alpha):\n"
        "    lin = nn.Linear(W.shape[1], W.shape[0])\n"
        "    lin.weight.data = W.clone()\n"
        "    layer = LoRALinear(lin, A.shape[0], alpha)\n"
        "    layer.lora_A['default'].data, layer.lora_B['default'].data = A, B\n"
        "    return layer.merged().weight.detach()"), "expect": "course_lib"},
    # (d) accept_draft
    "q_over_p": {"cell": "accept_draft", "replace": [("u[i] < p[i, x] / q[i, x]", "u[i] < q[i, x] / p[i, x]")],
                 "expect": "not q / p"},
    "no_clamp": {"cell": "accept_draft", "replace": [("(p[i] - q[i]).clamp(min=0)", "(p[i] - q[i])")], "expect": "clamp negatives"},
    "not_normalised": {"cell": "accept_draft", "replace": [("return i, r / r.sum()", "return i, r")], "expect": "normalise"},
    "residual_is_p": {"cell": "accept_draft", "replace": [("(p[i] - q[i]).clamp(min=0)", "p[i].clone()")], "expect": "max(0, p - q)"},
    "last_row_wrong": {"cell": "accept_draft", "replace": [("return k, p[k]", "return k, p[k - 1]")], "expect": "extra position"},
    "keeps_going": {"cell": "accept_draft", "code": (
        "def accept_draft(p, q, draft, u):\n"
        "    kept, r = 0, None\n"
        "    for i in range(len(draft)):\n"
        "        x = int(draft[i])\n"
        "        if u[i] < p[i, x] / q[i, x]:\n"
        "            kept += 1\n"
        "        elif r is None:\n"
        "            r = (p[i] - q[i]).clamp(min=0)\n"
        "            r = r / r.sum()\n"
        "    return kept, (p[len(draft)] if r is None else r)"), "expect": "stop at the first rejection"},
    "accept_imports_library": {"cell": "accept_draft", "code": (
        "from course_lib.speculative import accept_draft as _lib\n\n"
        "def accept_draft(p, q, draft, u):\n"
        "    n, _ = _lib(p, q, draft)\n"
        "    return n, p[n]"), "expect": "course_lib"},
}

HONEST = {
    "quantise_with_max_and_clamp": {"cell": "quantize_per_channel", "code": """
def quantize_per_channel(W):
    s = W.abs().max(dim=1, keepdim=True).values / 127
    s[s == 0] = 1.0
    return (W / s).round().to(torch.int8), s
"""},
    "lora_with_matrix": {"cell": "lora_forward", "code": """
def lora_forward(x, W, b, A, B, alpha):
    return torch.nn.functional.linear(x, W, b) + alpha / len(A) * torch.nn.functional.linear(torch.nn.functional.linear(x, A), B)
"""},
    "merge_with_addmm": {"cell": "lora_merge", "code": """
def lora_merge(W, A, B, alpha):
    return torch.addmm(W, B, A, alpha=alpha / A.size(0))
"""},
    "accept_with_tensors": {"cell": "accept_draft", "code": """
def accept_draft(p, q, draft, u):
    k = draft.numel()
    idx = torch.arange(k)
    ok = u < p[idx, draft] / q[idx, draft]
    n = k if bool(ok.all()) else int((~ok).nonzero()[0])
    if n == k:
        return k, p[k]
    r = torch.relu(p[n] - q[n])
    return n, r / r.sum()
"""},
}
