"""Assignment 01: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) bigram_probs
    "no_boundary_tokens": {"cell": "bigram_probs", "replace": [('chs = ["."] + list(w) + ["."]', "chs = list(w)")],
                           "expect": "'.' + name + '.'"},
    "normalise_columns": {"cell": "bigram_probs", "replace": [("P.sum(1, keepdim=True)", "P.sum(0, keepdim=True)")],
                          "expect": "normalise along dim 1"},
    "pair_reversed": {"cell": "bigram_probs", "replace": [("N[stoi[ch1], stoi[ch2]] += 1", "N[stoi[ch2], stoi[ch1]] += 1")],
                      "expect": "row i is the distribution of the character after"},
    "smoothing_after_normalising": {"cell": "bigram_probs", "replace": [(
        "P = N + k\n    return P / P.sum(1, keepdim=True)",
        "P = N / N.sum(1, keepdim=True).clamp(min=1)\n    return P + k")], "expect": "add k to every count, then normalise"},
    "smoothing_zero_counts_only": {"cell": "bigram_probs", "replace": [("P = N + k", "P = torch.where(N == 0, N + k, N)")],
                                   "expect": "add k to every count"},
    "unique_pairs_only": {"cell": "bigram_probs", "replace": [("N[stoi[ch1], stoi[ch2]] += 1", "N[stoi[ch1], stoi[ch2]] = 1")],
                          "expect": "add-one smoothing"},
    "probs_imports_library": {"cell": "bigram_probs", "code": (
        "from course_lib.models.bigram import BigramModel\n\n"
        "def bigram_probs(words, stoi, k=1.0):\n"
        "    return BigramModel().fit(words, smoothing=k).probs"), "expect": "course_lib"},
    # (b) temperature_probs and sample_names
    "temperature_multiplies": {"cell": "sampling", "replace": [("P.log() / temperature", "P.log() * temperature")],
                               "expect": "divide log P by T"},
    "temperature_on_probs": {"cell": "sampling", "replace": [("torch.softmax(P.log() / temperature, dim=1)",
                                                              "torch.softmax(P / temperature, dim=1)")],
                             "expect": "a probability of 0 stays 0"},
    "temperature_no_value_error": {"cell": "sampling", "replace": [("if not temperature > 0:", "if temperature < 0:")],
                                   "expect": "raise ValueError"},
    "max_len_off_by_one": {"cell": "sampling", "replace": [("while len(out) < max_len:", "while len(out) <= max_len:")],
                           "expect": "max_len = 7"},
    "keeps_end_dot": {"cell": "sampling", "replace": [("            if ix == 0:\n                break\n            out.append(itos[ix])",
                                                       "            out.append(itos[ix])\n            if ix == 0:\n                break")],
                      "expect": "leave the '.' out"},
    "ignores_generator": {"cell": "sampling", "replace": [("torch.multinomial(probs[ix], 1, generator=generator)",
                                                           "torch.multinomial(probs[ix], 1)")],
                          "expect": "pass generator"},
    "samples_untempered": {"cell": "sampling", "replace": [("probs = temperature_probs(P, temperature)", "probs = P")],
                           "expect": "sample from temperature_probs"},
    "prefix_not_in_name": {"cell": "sampling", "replace": [("out = list(prefix)", "out = []")], "expect": "starts 'ba'"},
    "prefix_ignored_for_next": {"cell": "sampling", "replace": [("ix = stoi_[prefix[-1]] if prefix else 0", "ix = 0")],
                                "expect": "follows 'a'"},
    "prefix_not_counted": {"cell": "sampling", "replace": [("while len(out) < max_len:", "while len(out) < max_len + len(prefix):")],
                           "expect": "counts towards max_len"},
    "sampling_imports_library": {"cell": "sampling", "code": (
        "from course_lib.models import bigram\n\n"
        "def temperature_probs(P, temperature=1.0):\n"
        "    if temperature <= 0:\n"
        "        raise ValueError('T > 0')\n"
        "    return torch.softmax(P.log() / temperature, dim=1)\n\n\n"
        "def sample_names(P, itos, n, temperature=1.0, generator=None, max_len=30, prefix=''):\n"
        "    return bigram.BigramModel().sample(n, generator=generator)"), "expect": "course_lib"},
    # (c) nll_per_char
    "no_end_token": {"cell": "nll", "replace": [('chs = ["."] + list(w) + ["."]', 'chs = ["."] + list(w)')],
                     "expect": "count the end token"},
    "average_over_names": {"cell": "nll", "code": (
        "def nll_per_char(P, words, stoi):\n"
        "    per_name = []\n"
        "    for w in words:\n"
        "        chs = ['.'] + list(w) + ['.']\n"
        "        pairs = list(zip(chs, chs[1:]))\n"
        "        per_name.append(-sum(torch.log(P[stoi[a], stoi[b]]).item() for a, b in pairs) / len(pairs))\n"
        "    return sum(per_name) / len(per_name)"), "expect": "not over names"},
    "math_log": {"cell": "nll", "replace": [("torch.log(P[stoi[ch1], stoi[ch2]]).item()", "math.log(P[stoi[ch1], stoi[ch2]].item())")],
                 "expect": "use torch.log"},
    "returns_tensor": {"cell": "nll", "code": (
        "def nll_per_char(P, words, stoi):\n"
        "    logs = [torch.log(P[stoi[a], stoi[b]]) for w in words for a, b in zip('.' + w, w + '.')]\n"
        "    return -torch.stack(logs).mean()"), "expect": "return a Python float"},
    "log2": {"cell": "nll", "replace": [("torch.log(", "torch.log2(")], "expect": "natural log"},
    "nll_imports_library": {"cell": "nll", "code": (
        "from course_lib.models.bigram import BigramModel\n\n"
        "def nll_per_char(P, words, stoi):\n"
        "    model = BigramModel()\n"
        "    model.probs = P\n"
        "    return float(model.nll(words))"), "expect": "course_lib"},
}

HONEST = {
    "probs_one_hot": {"cell": "bigram_probs", "code": """
def bigram_probs(words, stoi, k=1.0):
    V = len(stoi)
    counts = torch.full((V, V), float(k))
    for w in words:
        ids = [stoi[c] for c in "." + w + "."]
        for a, b in zip(ids[:-1], ids[1:]):
            counts[a, b] = counts[a, b] + 1
    return counts / counts.sum(dim=1, keepdim=True)
"""},
    "sampling_pow": {"cell": "sampling", "code": """
def temperature_probs(P, temperature=1.0):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    Q = P ** (1.0 / temperature)
    return Q / Q.sum(dim=1, keepdim=True)


def sample_names(P, itos, n, temperature=1.0, generator=None, max_len=30, prefix=""):
    Q = temperature_probs(P, temperature)
    lookup = {ch: i for i, ch in itos.items()}
    result = []
    for _ in range(n):
        name = prefix
        cur = lookup[prefix[-1]] if prefix else 0
        while len(name) < max_len:
            cur = int(torch.multinomial(Q[cur], num_samples=1, generator=generator))
            if cur == 0:
                break
            name += itos[cur]
        result.append(name)
    return result
"""},
    "nll_tensor_sum": {"cell": "nll", "code": """
def nll_per_char(P, words, stoi):
    rows, cols = [], []
    for w in words:
        ids = [0] + [stoi[c] for c in w] + [0]
        rows += ids[:-1]
        cols += ids[1:]
    return -torch.log(P[rows, cols]).mean().item()
"""},
}
