"""Assignment 14: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py.

LIBRARY holds the answers that only call the course's own version (course_lib.ethics); `checks.written_here`
rejects them: it sees the import of course_lib inside the function without running it."""

_SHARES = "return {group: n / len(labels) for group, n in counts.items()}"
_KNOWN = 'known = {group: share for group, share in train.items() if group != "unknown"}'
_AMP = "return majority, generated.get(majority, 0.0) / train[majority]"
_TIE = "    if len(leaders) > 1:\n        raise"
_EMPTY = "    if len(labels) == 0:\n        raise"
_SCORED = "scored = max(len(tokens) - h, 0)"
_GREEN = "green = sum(bool(is_green(tuple(tokens[t - h:t]), tokens[t])) for t in range(h, len(tokens)))"
_Z = "return float((green - gamma * scored) / np.sqrt(scored * gamma * (1 - gamma)))"
_SHORT = "    if scored < min_scored:\n        return None"
_GAMMA = "    if not 0 < gamma < 1:\n        raise"
_HMIN = "    if h < 1 or min_scored < 1:\n        raise"
_REALS = "reals_right = np.mean(real < threshold)"
_CELL = "acc[i, j] = (np.mean(fake >= threshold) + reals_right) / 2"
_SQUARE = "    if k == 0 or len(fake_scores) != k or any(len(row) != k for row in fake_scores):\n        raise"

LIBRARY = {
    "amplification_imports_library": {"cell": "amplification", "code": (
        "def group_shares(labels):\n"
        "    from course_lib.ethics import amplification\n"
        "    return amplification.group_shares(labels, lambda x: x, sorted(set(labels) - {'unknown'}))\n\n"
        "def majority_amplification(train_labels, generated_labels):\n"
        "    from course_lib.ethics import amplification\n"
        "    train = group_shares(train_labels)\n"
        "    major = amplification.majority_group(train)\n"
        "    return major, amplification.amplification(group_shares(generated_labels), train, major)"), "expect": "course_lib"},
    "watermark_imports_library": {"cell": "watermark_z", "code": (
        "def watermark_z(tokens, is_green, gamma, h, min_scored):\n"
        "    from course_lib.ethics import watermark\n"
        "    hits = [is_green(tuple(tokens[t - h:t]), tokens[t]) for t in range(h, len(tokens))]\n"
        "    return None if len(hits) < min_scored else watermark.z_score(sum(hits), len(hits), gamma)"), "expect": "course_lib"},
    "detector_imports_library": {"cell": "accuracy_matrix", "code": (
        "def accuracy_matrix(fake_scores, real_scores, threshold):\n"
        "    from course_lib.ethics import detect\n"
        "    return detect.cross_generator(fake_scores, real_scores, threshold)"), "expect": "course_lib"},
}

MISTAKES = {
    **LIBRARY,
    # (a) group_shares, majority_amplification
    "unknown_dropped": {"cell": "amplification", "replace": [(
        _SHARES, 'known = [l for l in labels if l != "unknown"]\n'
                 '    return {group: n / len(known) for group, n in counts.items() if group != "unknown"}')],
        "expect": "unknown labels count in the denominator"},
    "counts_not_shares": {"cell": "amplification", "replace": [(_SHARES, "return dict(counts)")],
                          "expect": "return shares (count / number of labels), not counts"},
    "percentages": {"cell": "amplification", "replace": [(_SHARES, "return {group: 100 * n / len(labels) for group, n in counts.items()}")],
                    "expect": "not percentages"},
    "ratio_inverted": {"cell": "amplification", "replace": [(_AMP, "return majority, train[majority] / generated.get(majority, 0.0)")],
                       "expect": "not the inverse"},
    "difference_not_ratio": {"cell": "amplification", "replace": [(_AMP, "return majority, generated.get(majority, 0.0) - train[majority]")],
                             "expect": "a ratio"},
    "ratio_of_counts": {"cell": "amplification", "replace": [(_AMP, (
        "return majority, list(generated_labels).count(majority) / list(train_labels).count(majority)"))],
        "expect": "compare shares, not counts"},
    "majority_from_generated": {"cell": "amplification", "replace": [(
        _KNOWN, 'known = {group: share for group, share in generated.items() if group != "unknown"}')],
        "expect": "the majority group is the one of the TRAINING labels"},
    "unknown_can_be_majority": {"cell": "amplification", "replace": [(_KNOWN, "known = dict(train)")],
                                "expect": "'unknown' is never the majority group"},
    "absent_majority_raises": {"cell": "amplification", "replace": [(_AMP, "return majority, generated[majority] / train[majority]")],
                               "expect": "never occurs among the generated labels has generated share 0"},
    "tie_not_raised": {"cell": "amplification", "replace": [(_TIE, "    if False:\n        raise")], "expect": "tie"},
    "empty_not_raised": {"cell": "amplification", "replace": [(_EMPTY, "    if False:\n        raise")], "expect": "empty"},
    "pair_swapped": {"cell": "amplification", "replace": [(_AMP, "return generated.get(majority, 0.0) / train[majority], majority")],
                     "expect": "(majority, amplification)"},
    # (b) watermark_z
    "first_h_scored": {"cell": "watermark_z", "replace": [
        (_SCORED, "scored = len(tokens)"),
        (_GREEN, "green = sum(bool(is_green(tuple(tokens[max(t - h, 0):t]), tokens[t])) for t in range(len(tokens)))")],
        "expect": "the first h tokens are not scored"},
    "first_h_counted_in_g_only": {"cell": "watermark_z", "replace": [(
        _GREEN, "green = sum(bool(is_green(tuple(tokens[max(t - h, 0):t]), tokens[t])) for t in range(len(tokens)))")],
        "expect": "the first h tokens are not scored"},
    "context_only_last_token": {"cell": "watermark_z", "replace": [(
        _GREEN, "green = sum(bool(is_green(tuple(tokens[t - 1:t]), tokens[t])) for t in range(h, len(tokens)))")],
        "expect": "not only the last one"},
    "context_includes_token": {"cell": "watermark_z", "replace": [(
        _GREEN, "green = sum(bool(is_green(tuple(tokens[t - h + 1:t + 1]), tokens[t])) for t in range(h, len(tokens)))")],
        "expect": "without the token itself"},
    "variance_over_all_tokens": {"cell": "watermark_z", "replace": [(
        _Z, "return float((green - gamma * scored) / np.sqrt(len(tokens) * gamma * (1 - gamma)))")],
        "expect": "in the variance"},
    "expected_over_all_tokens": {"cell": "watermark_z", "replace": [(
        _Z, "n = len(tokens)\n    return float((green - gamma * n) / np.sqrt(n * gamma * (1 - gamma)))")],
        "expect": "T is the number of SCORED tokens"},
    "variance_not_sqrt": {"cell": "watermark_z", "replace": [(_Z, "return float((green - gamma * scored) / (scored * gamma * (1 - gamma)))")],
                          "expect": "not the variance"},
    "poisson_variance": {"cell": "watermark_z", "replace": [(_Z, "return float((green - gamma * scored) / np.sqrt(scored * gamma))")],
                         "expect": "T gamma (1 - gamma), not T gamma"},
    "expected_not_subtracted": {"cell": "watermark_z", "replace": [(_Z, "return float(green / np.sqrt(scored * gamma * (1 - gamma)))")],
                                "expect": "subtract the expected number"},
    "green_share": {"cell": "watermark_z", "replace": [(_Z, "return green / scored")], "expect": "not the green share"},
    "sign_flipped": {"cell": "watermark_z", "replace": [(_Z, "return float((gamma * scored - green) / np.sqrt(scored * gamma * (1 - gamma)))")],
                     "expect": "sign is flipped"},
    "absolute_z": {"cell": "watermark_z", "replace": [(_Z, "return float(abs(green - gamma * scored) / np.sqrt(scored * gamma * (1 - gamma)))")],
                   "expect": "do not take abs"},
    "verdict_returned": {"cell": "watermark_z", "replace": [(_Z, "return (green - gamma * scored) / np.sqrt(scored * gamma * (1 - gamma)) > 4")],
                         "expect": "not a verdict"},
    "short_off_by_one": {"cell": "watermark_z", "replace": [(_SHORT, "    if scored <= min_scored:\n        return None")],
                         "expect": "FEWER than min_scored"},
    "short_counts_all_tokens": {"cell": "watermark_z", "replace": [(_SHORT, "    if len(tokens) < min_scored:\n        return None")],
                                "expect": "compare the number of SCORED tokens"},
    "short_gives_zero": {"cell": "watermark_z", "replace": [(_SHORT, "    if scored < min_scored:\n        return 0")],
                         "expect": "not a verdict or 0"},
    "gamma_not_checked": {"cell": "watermark_z", "replace": [(_GAMMA, "    if False:\n        raise")], "expect": "strictly between 0 and 1"},
    "h_not_checked": {"cell": "watermark_z", "replace": [(_HMIN, "    if False:\n        raise")], "expect": "must be at least 1"},
    # (c) accuracy_matrix
    "pooled_accuracy": {"cell": "accuracy_matrix", "replace": [(
        _CELL, "acc[i, j] = ((fake >= threshold).sum() + (real < threshold).sum()) / (fake.size + real.size)")],
        "expect": "BALANCED accuracy"},
    "threshold_strict": {"cell": "accuracy_matrix", "replace": [(_REALS, "reals_right = np.mean(real <= threshold)"),
                                                                 (_CELL, "acc[i, j] = (np.mean(fake > threshold) + reals_right) / 2")],
                         "expect": "equal to the threshold means fake"},
    "fakes_only": {"cell": "accuracy_matrix", "replace": [(_CELL, "acc[i, j] = np.mean(fake >= threshold)")],
                   "expect": "the real images count too"},
    "first_detector_reals": {"cell": "accuracy_matrix", "replace": [(
        "real = np.asarray(real_scores[i], dtype=float).ravel()", "real = np.asarray(real_scores[0], dtype=float).ravel()")],
        "expect": "its own real scores"},
    "mean_scores": {"cell": "accuracy_matrix", "replace": [(_CELL, "acc[i, j] = (fake.mean() + 1 - real.mean()) / 2")],
                    "expect": "threshold the scores into decisions first"},
    "error_rate": {"cell": "accuracy_matrix", "replace": [(_CELL, "acc[i, j] = 1 - (np.mean(fake >= threshold) + reals_right) / 2")],
                   "expect": "not the error rate"},
    "reals_inverted": {"cell": "accuracy_matrix", "replace": [(_REALS, "reals_right = np.mean(real >= threshold)")],
                       "expect": "BELOW the threshold"},
    "transposed": {"cell": "accuracy_matrix", "replace": [("    return acc", "    return acc.T")], "expect": "transposed"},
    "threshold_ignored": {"cell": "accuracy_matrix", "replace": [(_REALS, "reals_right = np.mean(real < 0.5)"),
                                                                  (_CELL, "acc[i, j] = (np.mean(fake >= 0.5) + reals_right) / 2")],
                          "expect": "use the threshold argument"},
    "empty_gives_nan": {"cell": "accuracy_matrix", "replace": [
        ("        if real.size == 0:\n            raise", "        if False:\n            raise"),
        ("            if fake.size == 0:\n                raise", "            if False:\n                raise")],
        "expect": "empty list of"},
    "shapes_not_checked": {"cell": "accuracy_matrix", "replace": [(_SQUARE, "    if False:\n        raise")],
                           "expect": "the shapes do not fit"},
}

HONEST = {
    "amplification_counter": {"cell": "amplification", "code": """
from collections import Counter

def group_shares(labels):
    labels = list(labels)
    if not labels:
        raise ValueError("empty sample")
    total = len(labels)
    return {g: c / total for g, c in Counter(labels).items()}

def majority_amplification(train_labels, generated_labels):
    train = group_shares(train_labels)
    gen = group_shares(generated_labels)
    ranked = sorted(((s, g) for g, s in train.items() if g != "unknown"), reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0][0] == ranked[1][0]):
        raise ValueError("no single majority group")
    share, group = ranked[0]
    return (group, gen.get(group, 0) / share)
"""},
    "amplification_numpy": {"cell": "amplification", "code": """
def group_shares(labels):
    arr = np.asarray(labels, dtype=str)
    if arr.size == 0:
        raise ValueError("no labels")
    groups, counts = np.unique(arr, return_counts=True)
    return {str(g): float(c) / arr.size for g, c in zip(groups, counts)}

def majority_amplification(train_labels, generated_labels):
    if len(generated_labels) == 0:
        raise ValueError("no generated labels")
    train = group_shares(train_labels)
    candidates = [g for g in train if g != "unknown"]
    if len(candidates) == 0:
        raise ValueError("only unknown labels")
    best = max(train[g] for g in candidates)
    top = [g for g in candidates if train[g] == best]
    if len(top) != 1:
        raise ValueError("tie")
    generated = np.asarray(generated_labels, dtype=str)
    return top[0], float(np.mean(generated == top[0])) / best
"""},
    "watermark_loop": {"cell": "watermark_z", "code": """
import math

def watermark_z(tokens, is_green, gamma, h, min_scored):
    if gamma <= 0 or gamma >= 1:
        raise ValueError("gamma must be in (0, 1)")
    if h < 1:
        raise ValueError("h must be >= 1")
    if min_scored < 1:
        raise ValueError("min_scored must be >= 1")
    T = 0
    G = 0
    for t in range(h, len(tokens)):
        T += 1
        if is_green(tuple(tokens[t - h:t]), tokens[t]):
            G += 1
    if T < min_scored:
        return None
    return (G - gamma * T) / math.sqrt(T * gamma * (1 - gamma))
"""},
    "watermark_numpy": {"cell": "watermark_z", "code": """
def watermark_z(tokens, is_green, gamma, h, min_scored):
    if not (0 < gamma < 1) or h < 1 or min_scored < 1:
        raise ValueError(f"bad parameters gamma={gamma}, h={h}, min_scored={min_scored}")
    seq = np.asarray(tokens).tolist()
    flags = np.array([is_green(tuple(seq[i - h:i]), seq[i]) for i in range(h, len(seq))], dtype=float)
    if flags.size < min_scored:
        return None
    share = flags.mean()
    return float((share - gamma) * np.sqrt(flags.size) / np.sqrt(gamma * (1 - gamma)))
"""},
    "accuracy_lists": {"cell": "accuracy_matrix", "code": """
def accuracy_matrix(fake_scores, real_scores, threshold):
    K = len(real_scores)
    if K == 0 or len(fake_scores) != K:
        raise ValueError("need K detectors")
    rows = []
    for i in range(K):
        if len(fake_scores[i]) != K:
            raise ValueError("each row needs K generators")
        reals = list(real_scores[i])
        if len(reals) == 0:
            raise ValueError("no reals")
        tnr = sum(1 for s in reals if s < threshold) / len(reals)
        row = []
        for j in range(K):
            fakes = list(fake_scores[i][j])
            if len(fakes) == 0:
                raise ValueError("no fakes")
            tpr = sum(1 for s in fakes if s >= threshold) / len(fakes)
            row.append(0.5 * (tpr + tnr))
        rows.append(row)
    return np.array(rows)
"""},
    "accuracy_weighted": {"cell": "accuracy_matrix", "code": """
def accuracy_matrix(fake_scores, real_scores, threshold):
    # the accuracy on a balanced set: each image weighted by 1 / (2 * size of its set)
    K = len(real_scores)
    if K == 0 or len(fake_scores) != K or any(len(r) != K for r in fake_scores):
        raise ValueError("fake_scores must be K x K for K = len(real_scores)")
    out = np.empty((K, K))
    for i in range(K):
        r = np.asarray(real_scores[i], dtype=float)
        for j in range(K):
            f = np.asarray(fake_scores[i][j], dtype=float)
            if r.size == 0 or f.size == 0:
                raise ValueError("empty score list")
            scores = np.concatenate([f, r])
            is_fake = np.concatenate([np.ones(f.size), np.zeros(r.size)])
            weight = np.concatenate([np.full(f.size, 0.5 / f.size), np.full(r.size, 0.5 / r.size)])
            out[i, j] = np.sum(weight * ((scores >= threshold) == (is_fake == 1)))
    return out
"""},
}
