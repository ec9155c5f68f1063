"""How much of a sample set is memorised training data: one number for a scorecard.

A sample counts as a near-copy when it is closer to its nearest training image than the `quantile` (5%) of
real held-out images are to theirs (course_lib.ethics.copies.near_copies, notebook 15, which holds the
distance code). So a model that draws new digits scores about `quantile` (the rule's false-alarm rate, not 0)
and one that replays its training set scores about 1.
"""
from __future__ import annotations

SPACES = {"features": "features", "pixels": "pixel", "pixel": "pixel"}   # the ethics module says "pixel"


def memorisation_share(samples, train, heldout, *, space: str = "features", quantile: float = 0.05) -> float:
    """Share of `samples` (N, 1, s, s) nearer to a `train` image than `quantile` of `heldout` images are.
    space: "features" (the digit classifier's: same digit drawn the same way) or "pixels"."""
    from course_lib.ethics.copies import near_copies
    if space not in SPACES:
        raise ValueError(f"space must be 'features' or 'pixels', got {space!r}")
    report = near_copies(samples, train, heldout, space=SPACES[space], quantile=quantile)
    return float(report.is_copy.double().mean())
