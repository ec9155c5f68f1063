"""Assignment 05: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) causal_attention
    "divide_by_d": {"cell": "causal_attention", "replace": [("/ math.sqrt(d)", "/ d")], "expect": "sqrt(d)"},
    "no_scale": {"cell": "causal_attention", "replace": [("/ math.sqrt(d)", "")], "expect": "sqrt(d)"},
    "mask_after_softmax": {"cell": "causal_attention", "replace": [(
        '    scores = scores.masked_fill(~allowed, float("-inf"))\n    return torch.softmax(scores, dim=-1) @ v',
        "    weights = torch.softmax(scores, dim=-1).masked_fill(~allowed, 0.0)\n    return weights @ v")],
        "expect": "before the softmax"},
    "mask_with_zero": {"cell": "causal_attention", "replace": [('float("-inf")', "0.0")],
                       "expect": "future"},
    "mask_the_past": {"cell": "causal_attention", "replace": [("allowed = lag >= 0", "allowed = lag <= 0")],
                      "expect": "future"},
    "softmax_wrong_dim": {"cell": "causal_attention", "replace": [("dim=-1", "dim=-2")],
                          "expect": "last dimension"},
    "transpose_all_dims": {"cell": "causal_attention", "replace": [("k.transpose(-2, -1)", "k.T")],
                           "expect": "transpose(-2, -1)"},
    "window_off_by_one": {"cell": "causal_attention", "replace": [("lag < window", "lag <= window")],
                          "expect": "exactly the w positions"},
    "window_ignored": {"cell": "causal_attention", "replace": [("if window is not None:", "if False:")],
                       "expect": "window=2"},
    "uses_sdpa": {"cell": "causal_attention", "code": (
        "def causal_attention(q, k, v, window=None):\n"
        "    return F.scaled_dot_product_attention(q, k, v, is_causal=True)"),
        "expect": "uses scaled_dot_product_attention"},
    "imports_library_gpt": {"cell": "causal_attention", "code": (
        "import course_lib.models.gpt as gpt\n\n"
        "def causal_attention(q, k, v, window=None):\n"
        "    return gpt.F.scaled_dot_product_attention(q, k, v, is_causal=True)"),
        "expect": "course_lib"},
    # (b) bpe_merge_step
    "overlapping_merge": {"cell": "bpe_merge_step", "replace": [("i += 2", "i += 1")],
                          "expect": "no overlap"},
    "drops_last_id": {"cell": "bpe_merge_step", "replace": [("while i < len(ids):", "while i < len(ids) - 1:")],
                      "expect": "no partner"},
    "tie_goes_to_last": {"cell": "bpe_merge_step", "replace": [(
        "pair = max(counts, key=counts.get)", "pair = max(reversed(list(counts)), key=counts.get)")],
        "expect": "on a tie"},
    "tie_goes_to_largest_pair": {"cell": "bpe_merge_step", "replace": [(
        "pair = max(counts, key=counts.get)", "pair = max(counts, key=lambda p: (counts[p], p))")],
        "expect": "on a tie"},
    "modifies_input": {"cell": "bpe_merge_step", "code": (
        "def bpe_merge_step(ids, new_id):\n"
        "    if len(ids) < 2:\n"
        "        raise ValueError('too short')\n"
        "    counts = {}\n"
        "    for pair in zip(ids, ids[1:]):\n"
        "        counts[pair] = counts.get(pair, 0) + 1\n"
        "    pair = max(counts, key=counts.get)\n"
        "    i = 0\n"
        "    while i < len(ids) - 1:\n"
        "        if (ids[i], ids[i + 1]) == pair:\n"
        "            ids[i:i + 2] = [new_id]\n"
        "        i += 1\n"
        "    return ids, pair"),
        "expect": "do not modify the input list"},
    "no_value_error": {"cell": "bpe_merge_step", "replace": [(
        '        raise ValueError(f"need at least two ids to merge a pair, got {len(ids)}")', "        return list(ids), None")],
        "expect": "raise ValueError"},
    "imports_library_bpe": {"cell": "bpe_merge_step", "code": (
        "from course_lib import tokenizers\n\n"
        "def bpe_merge_step(ids, new_id):\n"
        "    return tokenizers.bpe_merge_step(ids, new_id)"),
        "expect": "course_lib"},
    # (c) top_k_sample
    "kth_not_a_column": {"cell": "top_k_sample", "replace": [("values[:, -1:]", "values[:, -1]")],
                         "expect": "(B, 1) column"},
    "keeps_k_plus_one": {"cell": "top_k_sample", "replace": [(
        "torch.topk(logits, k, dim=-1)", "torch.topk(logits, min(k + 1, logits.shape[-1]), dim=-1)")],
        "expect": "keep exactly k"},
    "k_larger_than_v_crashes": {"cell": "top_k_sample", "replace": [("    k = min(k, logits.shape[-1])\n", "")],
                                "expect": "k >= V"},
    "in_place_mask": {"cell": "top_k_sample", "replace": [(
        'filtered = logits.masked_fill(logits < kth, float("-inf"))',
        'logits[logits < kth] = float("-inf")\n    filtered = logits')],
        "expect": "in place"},
    "ignores_generator": {"cell": "top_k_sample", "replace": [("torch.multinomial(probs, 1, generator=generator)",
                                                               "torch.multinomial(probs, 1)")],
                          "expect": "generator"},
    "returns_column": {"cell": "top_k_sample", "replace": [(".squeeze(1)", "")], "expect": "expected shape (1,)"},
    "float_ids": {"cell": "top_k_sample", "replace": [(".squeeze(1)", ".squeeze(1).float()")], "expect": "int64"},
    "no_value_error_k0": {"cell": "top_k_sample", "replace": [("if k < 1:", "if k < 0:")], "expect": "raise ValueError"},
}

HONEST = {
    "attention_additive_mask": {"cell": "causal_attention", "code": """
def causal_attention(q, k, v, window=None):
    d = q.size(-1)
    T = q.size(-2)
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    bad = j > i
    if window is not None:
        bad = bad | (j <= i - window)
    mask = torch.zeros(T, T).masked_fill(bad, float('-inf'))
    att = torch.einsum('...td,...sd->...ts', q, k) / d ** 0.5 + mask
    return att.softmax(-1) @ v
"""},
    "attention_tril_large_negative": {"cell": "causal_attention", "code": """
def causal_attention(q, k, v, window=None):
    T = q.shape[-2]
    scores = (q @ k.mT) * (1.0 / math.sqrt(q.shape[-1]))
    keep = torch.tril(torch.ones(T, T, dtype=torch.bool))
    if window is not None:
        keep = keep & ~torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-window)
    scores = scores.masked_fill(keep == 0, -1e9)
    return F.softmax(scores, dim=-1) @ v
"""},
    "bpe_counter": {"cell": "bpe_merge_step", "code": """
from collections import Counter

def bpe_merge_step(ids, new_id):
    if len(ids) < 2:
        raise ValueError("need two ids")
    pair = Counter(zip(ids, ids[1:])).most_common(1)[0][0]
    out = []
    i = 0
    while i < len(ids):
        if ids[i:i + 2] == list(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out, tuple(int(x) for x in pair)
"""},
    "top_k_scatter": {"cell": "top_k_sample", "code": """
def top_k_sample(logits, k, generator=None):
    if k < 1:
        raise ValueError("k >= 1")
    k = min(k, logits.size(-1))
    vals, idx = logits.topk(k, dim=-1)
    probs = torch.zeros_like(logits).scatter(-1, idx, vals.softmax(-1))
    return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]
"""},
    "top_k_sample_among_kept": {"cell": "top_k_sample", "code": """
def top_k_sample(logits, k, generator=None):
    if k < 1:
        raise ValueError("k must be positive")
    vals, idx = torch.topk(logits, min(k, logits.shape[1]), dim=1)
    choice = torch.multinomial(torch.softmax(vals, dim=1), 1, generator=generator)
    return idx.gather(1, choice).squeeze(1).long()
"""},
}
