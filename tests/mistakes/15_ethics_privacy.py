"""Assignment 15: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py.

LIBRARY holds the answers that only call the course's own version (course_lib.ethics.membership and .copies; the
canary rank through membership.roc_auc, since canaries.exposure scores a model, not numbers);
`checks.written_here` rejects them: it sees the import of course_lib inside the function without running it."""

_RANK = "return float(1 + np.sum(others < own) + 0.5 * np.sum(others == own))"
_EST = "estimated_rank = rank * space_size / (m + 1)"
_EXP = "return float(np.log2(space_size) - np.log2(estimated_rank))"
_SPACE = "    if space_size < m + 1:\n        raise"
_EMPTY_A = "    if others.size == 0:\n        raise"
_AUC = "return float((below.sum() + 0.5 * ties.sum()) / (members.size * others.size))"
_K = "k = int(np.floor(fpr * others.size))"
_THR = "threshold = others[k]"
_TPR = "return float(np.mean(members < threshold))"
_FPR = "    if not 0 <= fpr < 1:\n        raise"
_D = "d = np.sqrt(((x[:, None, :] - t[None, :, :]) ** 2).sum(axis=2))"
_MIN = "return d.min(axis=1)"
_Q = "threshold = np.quantile(real, q)"
_COPY = "return nearest_train_distance(samples, train) < threshold"

LIBRARY = {
    "exposure_imports_library": {"cell": "exposure", "code": (
        "def canary_rank(canary_bits, candidate_bits):\n"
        "    from course_lib.ethics import membership\n"
        "    others = [-float(b) for b in candidate_bits]\n"
        "    return 1 + len(others) * (1 - membership.roc_auc([-float(canary_bits)], others))\n\n"
        "def exposure(canary_bits, candidate_bits, space_size):\n"
        "    import math\n"
        "    from course_lib.ethics import canaries\n"
        "    m = len(candidate_bits)\n"
        "    if m == 0 or space_size < m + 1:\n"
        "        raise ValueError(canaries.SPACE)\n"
        "    return math.log2(m + 1) - math.log2(canary_rank(canary_bits, candidate_bits))"), "expect": "course_lib"},
    "membership_imports_library": {"cell": "membership", "code": (
        "def attack_auc(member_losses, nonmember_losses):\n"
        "    from course_lib.ethics import membership\n"
        "    return membership.roc_auc(membership.loss_threshold_scores(member_losses),\n"
        "                              membership.loss_threshold_scores(nonmember_losses))\n\n"
        "def tpr_at_fpr(member_losses, nonmember_losses, fpr):\n"
        "    from course_lib.ethics import membership\n"
        "    return membership.tpr_at_fpr(membership.loss_threshold_scores(member_losses),\n"
        "                                 membership.loss_threshold_scores(nonmember_losses), fpr)"), "expect": "course_lib"},
    "copies_imports_library": {"cell": "copies", "code": (
        "def nearest_train_distance(samples, train):\n"
        "    from course_lib.ethics import copies\n"
        "    return copies.nearest(samples, train)[0][:, 0].numpy()\n\n"
        "def find_copies(samples, train, heldout, q):\n"
        "    from course_lib.ethics import copies\n"
        "    return copies.near_copies(samples, train, heldout, quantile=q).is_copy.numpy()"), "expect": "course_lib"},
}

MISTAKES = {
    **LIBRARY,
    # (a) canary_rank, exposure
    "ties_count_one": {"cell": "exposure", "replace": [(_RANK, "return float(1 + np.sum(others <= own))")],
                       "expect": "ties count one half, not one"},
    "ties_count_zero": {"cell": "exposure", "replace": [(_RANK, "return float(1 + np.sum(others < own))")],
                        "expect": "ties count one half, not zero"},
    "rank_from_zero": {"cell": "exposure", "replace": [(_RANK, "return float(np.sum(others < own) + 0.5 * np.sum(others == own))")],
                       "expect": "the rank starts at 1"},
    "higher_is_likelier": {"cell": "exposure", "replace": [(_RANK, "return float(1 + np.sum(others > own) + 0.5 * np.sum(others == own))")],
                           "expect": "LOWER log-perplexity"},
    "natural_log": {"cell": "exposure", "replace": [(_EXP, "return float(np.log(space_size) - np.log(estimated_rank))")],
                    "expect": "not the natural logarithm"},
    "log10": {"cell": "exposure", "replace": [(_EXP, "return float(np.log10(space_size) - np.log10(estimated_rank))")],
              "expect": "not log10"},
    "sign_flipped": {"cell": "exposure", "replace": [(_EXP, "return float(np.log2(estimated_rank) - np.log2(space_size))")],
                     "expect": "sign is flipped"},
    "rank_not_logged": {"cell": "exposure", "replace": [(_EXP, "return float(np.log2(space_size) - estimated_rank)")],
                        "expect": "take the logarithm of the rank too"},
    "sample_rank_as_full_rank": {"cell": "exposure", "replace": [(_EST, "estimated_rank = rank")],
                                 "expect": "scale the rank to the space"},
    "scaled_by_m": {"cell": "exposure", "replace": [(_EST, "estimated_rank = rank * space_size / m")],
                    "expect": "not |R| / m"},
    "space_off_by_one": {"cell": "exposure", "replace": [(_SPACE, "    if space_size < m:\n        raise")],
                         "expect": "a space of 6 is smaller than m + 1"},
    "space_not_checked": {"cell": "exposure", "replace": [(_SPACE, "    if False:\n        raise")],
                          "expect": "smaller than m + 1"},
    "empty_rank_not_raised": {"cell": "exposure", "replace": [(_EMPTY_A, "    if False:\n        raise")],
                              "expect": "no candidates: the rank is undefined"},
    # (b) attack_auc, tpr_at_fpr
    "loss_as_score": {"cell": "membership", "replace": [("below = members[:, None] < others[None, :]",
                                                         "below = members[:, None] > others[None, :]")],
                      "expect": "the score is MINUS the loss"},
    "auc_ties_zero": {"cell": "membership", "replace": [(_AUC, "return float(below.sum() / (members.size * others.size))")],
                      "expect": "ties count one half, not zero"},
    "auc_ties_one": {"cell": "membership", "replace": [(_AUC, "return float((below.sum() + ties.sum()) / (members.size * others.size))")],
                     "expect": "ties count one half, not one"},
    "auc_empty_not_raised": {"cell": "membership", "replace": [(
        "    if members.size == 0 or others.size == 0:\n        raise ValueError(f\"need at least one member and one non-member loss, got {members.size} and {others.size}\")\n    below",
        "    below")], "expect": "raise ValueError"},
    "ties_at_threshold_flagged": {"cell": "membership", "replace": [(_TPR, "return float(np.mean(members <= threshold))")],
                                  "expect": "STRICTLY below the threshold"},
    "k_rounded_up": {"cell": "membership", "replace": [(_K, "k = min(int(np.ceil(fpr * others.size)), others.size - 1)")],
                     "expect": "round down, not up"},
    "k_plus_one_flagged": {"cell": "membership", "replace": [(_K, "k = min(int(np.floor(fpr * others.size)) + 1, others.size - 1)")],
                           "expect": "not k + 1"},
    "returns_fpr": {"cell": "membership", "replace": [(_TPR, "return float(np.mean(others < threshold))")],
                    "expect": "not of non-members (the FPR)"},
    "flags_high_losses": {"cell": "membership", "replace": [(_THR, "threshold = others[::-1][k]"),
                                                            (_TPR, "return float(np.mean(members > threshold))")],
                          "expect": "flags LOW losses"},
    "interpolated_quantile": {"cell": "membership", "replace": [(_THR, "threshold = np.quantile(others, fpr)")],
                              "expect": "not a quantile interpolated"},
    "fpr_not_checked": {"cell": "membership", "replace": [(_FPR, "    if False:\n        raise"),
                                                          (_THR, "threshold = others[min(k, others.size - 1)]")],
                        "expect": "must be in [0, 1)"},
    "fpr_one_allowed": {"cell": "membership", "replace": [(_FPR, "    if not 0 <= fpr <= 1:\n        raise"),
                                                          (_THR, "threshold = others[k] if k < others.size else np.inf")],
                        "expect": "fpr = 1.0"},
    # (c) nearest_train_distance, find_copies
    "squared_distance": {"cell": "copies", "replace": [(_D, "d = ((x[:, None, :] - t[None, :, :]) ** 2).sum(axis=2)")],
                         "expect": "not its square"},
    "l1_distance": {"cell": "copies", "replace": [(_D, "d = np.abs(x[:, None, :] - t[None, :, :]).sum(axis=2)")],
                    "expect": "not the L1 sum"},
    "mean_distance": {"cell": "copies", "replace": [(_MIN, "return d.mean(axis=1)")], "expect": "not the mean over the training"},
    "farthest": {"cell": "copies", "replace": [(_MIN, "return d.max(axis=1)")], "expect": "not the largest"},
    "not_flattened": {"cell": "copies", "replace": [(
        "x, t = x.reshape(len(x), -1), t.reshape(len(t), -1)                   # (n, d), (N, d)\n"
        "    if x.shape[1] != t.shape[1]:\n        raise ValueError(f\"samples have {x.shape[1]} pixels each but training images {t.shape[1]}\")\n"
        "    d = np.sqrt(((x[:, None, :] - t[None, :, :]) ** 2).sum(axis=2))       # (n, N) exact differences\n"
        "    return d.min(axis=1)",
        "if x.shape[1:] != t.shape[1:]:\n        raise ValueError('sizes differ')\n"
        "    return np.sqrt(((x[:, None] - t[None]) ** 2).sum(axis=-1)).min(axis=1)")],
        "expect": "flatten each image"},
    "copy_at_threshold": {"cell": "copies", "replace": [(_COPY, "return nearest_train_distance(samples, train) <= threshold")],
                          "expect": "STRICTLY below the threshold"},
    "quantile_lower": {"cell": "copies", "replace": [(_Q, 'threshold = np.quantile(real, q, method="lower")')],
                       "expect": "not the sorted distance 1.7321"},
    "quantile_higher": {"cell": "copies", "replace": [(_Q, 'threshold = np.quantile(real, q, method="higher")')],
                        "expect": "not the sorted distance 2.0"},
    "percentile": {"cell": "copies", "replace": [(_Q, "threshold = np.percentile(real, q)")], "expect": "not a percentage"},
    "threshold_from_samples": {"cell": "copies", "replace": [(_Q, "threshold = np.quantile(nearest_train_distance(samples, train), q)")],
                               "expect": "not from the samples' own"},
    "heldout_to_each_other": {"cell": "copies", "replace": [(
        "real = nearest_train_distance(heldout, train)",
        "h = np.asarray(heldout, dtype=float).reshape(len(heldout), -1)\n"
        "    dd = np.sqrt(((h[:, None] - h[None]) ** 2).sum(-1))\n"
        "    np.fill_diagonal(dd, np.inf)\n"
        "    nearest_train_distance(heldout, train)\n"
        "    real = dd.min(1)")], "expect": "not to each other"},
    "indices_returned": {"cell": "copies", "replace": [(_COPY, "return np.flatnonzero(nearest_train_distance(samples, train) < threshold)")],
                         "expect": "not the indices"},
    "q_not_checked": {"cell": "copies", "replace": [(
        "    if not 0 < q < 1:\n        raise", "    if False:\n        raise"), (_Q, "threshold = np.quantile(real, min(max(q, 0), 1))")],
        "expect": "strictly between 0 and 1"},
    "empty_not_checked": {"cell": "copies", "code": """
def nearest_train_distance(samples, train):
    out = []
    for x in samples:
        x = np.asarray(x, dtype=float).ravel()
        best = np.inf
        for t in train:
            t = np.asarray(t, dtype=float).ravel()
            if x.size != t.size:
                raise ValueError("different image sizes")
            best = min(best, float(np.sqrt(np.sum((x - t) ** 2))))
        out.append(best)
    return np.array(out)

def find_copies(samples, train, heldout, q):
    if not 0 < q < 1:
        raise ValueError("q must be in (0, 1)")
    return nearest_train_distance(samples, train) < np.quantile(nearest_train_distance(heldout, train), q)
""", "expect": "no samples: raise ValueError"},
}

HONEST = {
    "exposure_loops": {"cell": "exposure", "code": """
import math

def canary_rank(canary_bits, candidate_bits):
    candidate_bits = list(candidate_bits)
    if len(candidate_bits) == 0:
        raise ValueError("no candidates")
    rank = 1.0
    for b in candidate_bits:
        if b < canary_bits:
            rank += 1
        elif b == canary_bits:
            rank += 0.5
    return rank

def exposure(canary_bits, candidate_bits, space_size):
    m = len(list(candidate_bits))
    if m == 0:
        raise ValueError("no candidates")
    if m > space_size - 1:
        raise ValueError("space too small")
    return math.log2(m + 1) - math.log2(canary_rank(canary_bits, candidate_bits))
"""},
    "exposure_fraction": {"cell": "exposure", "code": """
def canary_rank(canary_bits, candidate_bits):
    c = np.array(candidate_bits, dtype=np.float64).reshape(-1)
    if not len(c):
        raise ValueError("candidate_bits must not be empty")
    likelier = np.count_nonzero(c < canary_bits)
    tied = np.count_nonzero(np.isclose(c, canary_bits, rtol=0, atol=1e-12))
    return 1 + likelier + tied / 2

def exposure(canary_bits, candidate_bits, space_size):
    # the estimated fraction of R at least as likely as the canary, as in Carlini et al.
    rank = canary_rank(canary_bits, candidate_bits)
    m = np.size(candidate_bits)
    if space_size <= m:
        raise ValueError(f"|R| = {space_size} cannot hold {m} candidates and the canary")
    fraction = rank / (m + 1)
    return float(-np.log2(fraction))
"""},
    "membership_sorted": {"cell": "membership", "code": """
import bisect

def attack_auc(member_losses, nonmember_losses):
    ms, ns = list(member_losses), sorted(nonmember_losses)
    if not ms or not ns:
        raise ValueError("empty")
    total = 0.0
    for l in ms:
        above = len(ns) - bisect.bisect_right(ns, l)      # non-members with a higher loss
        equal = bisect.bisect_right(ns, l) - bisect.bisect_left(ns, l)
        total += above + 0.5 * equal
    return total / (len(ms) * len(ns))

def tpr_at_fpr(member_losses, nonmember_losses, fpr):
    if fpr < 0 or fpr >= 1:
        raise ValueError("fpr out of range")
    ms, ns = list(member_losses), sorted(nonmember_losses)
    if not ms or not ns:
        raise ValueError("empty")
    k = int(fpr * len(ns))
    t = ns[k]
    return sum(1 for l in ms if l < t) / len(ms)
"""},
    "membership_ranks": {"cell": "membership", "code": """
def attack_auc(member_losses, nonmember_losses):
    # Mann-Whitney U from midranks of the scores -loss
    a = -np.asarray(member_losses, dtype=float)
    b = -np.asarray(nonmember_losses, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("need both sets")
    allv = np.concatenate([a, b])
    values, inverse, counts = np.unique(allv, return_inverse=True, return_counts=True)
    midrank = np.cumsum(counts) - (counts - 1) / 2
    ranks = midrank[inverse]
    u = ranks[:a.size].sum() - a.size * (a.size + 1) / 2
    return float(u / (a.size * b.size))

def tpr_at_fpr(member_losses, nonmember_losses, fpr):
    if not (0 <= fpr < 1):
        raise ValueError("fpr must be in [0, 1)")
    a = np.asarray(member_losses, dtype=float)
    b = np.asarray(nonmember_losses, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("need both sets")
    # the largest threshold among the non-member losses that flags at most floor(fpr n) of them
    allowed = int(np.floor(fpr * b.size))
    best = None
    for t in np.unique(b):
        if np.sum(b < t) <= allowed:
            best = t
    return float(np.mean(a < best))
"""},
    "copies_expanded": {"cell": "copies", "code": """
def nearest_train_distance(samples, train):
    s = np.asarray(samples, dtype=np.float64)
    t = np.asarray(train, dtype=np.float64)
    if s.shape[0] == 0 or t.shape[0] == 0:
        raise ValueError("empty set")
    s = s.reshape(s.shape[0], -1)
    t = t.reshape(t.shape[0], -1)
    if s.shape[1] != t.shape[1]:
        raise ValueError("pixel counts differ")
    sq = (s ** 2).sum(1)[:, None] - 2 * s @ t.T + (t ** 2).sum(1)[None, :]
    return np.sqrt(np.maximum(sq.min(axis=1), 0.0))

def find_copies(samples, train, heldout, q):
    if q <= 0 or q >= 1:
        raise ValueError("q must be in (0, 1)")
    held = nearest_train_distance(heldout, train)
    return nearest_train_distance(samples, train) < np.quantile(held, q)
"""},
    "copies_loops": {"cell": "copies", "code": """
import math

def nearest_train_distance(samples, train):
    flat = lambda a: [np.asarray(x, dtype=float).ravel() for x in a]
    xs, ts = flat(samples), flat(train)
    if not xs or not ts:
        raise ValueError("need samples and training images")
    out = []
    for x in xs:
        best = math.inf
        for t in ts:
            if x.size != t.size:
                raise ValueError("different image sizes")
            best = min(best, float(np.linalg.norm(x - t)))
        out.append(best)
    return np.array(out)

def find_copies(samples, train, heldout, q):
    if not (0 < q < 1):
        raise ValueError("q is a fraction in (0, 1)")
    real = np.sort(nearest_train_distance(heldout, train))
    pos = q * (len(real) - 1)                      # the linear quantile by hand
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(real) - 1)
    threshold = real[lo] + (pos - lo) * (real[hi] - real[lo])
    return np.array([d < threshold for d in nearest_train_distance(samples, train)], dtype=bool)
"""},
}
