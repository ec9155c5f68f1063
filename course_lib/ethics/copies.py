"""Near-copy detection for image generators (Carlini et al. 2023; Somepalli et al. 2023, in miniature).

A generated image is a near-copy when it lies closer to its nearest training image than real held-out images
typically do: the threshold is the `quantile` (default 5%) of the held-out images' nearest-training-image
distances, so about 5% of real new images would be flagged too (the false-alarm rate is stated, not zero).
Distances are Euclidean in pixel space or in the course classifier's penultimate features (which see "the same
digit drawn the same way" rather than "the same pixels").
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


def _flat(x, name: str) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.dim() < 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty batch (N, ...), got shape {tuple(x.shape)}")
    return x.reshape(len(x), -1)


def nearest(queries, reference, *, k: int = 1, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distances (n, k) from each query to its k nearest reference rows, and their indices (n, k)."""
    q, r = _flat(queries, "queries"), _flat(reference, "reference")
    if q.size(1) != r.size(1):
        raise ValueError(f"queries and reference must have the same size per item, got {q.size(1)} and {r.size(1)}")
    if not 1 <= k <= len(r):
        raise ValueError(f"k must be in 1..{len(r)} (the reference size), got {k}")
    dists, idx = [], []
    for i in range(0, len(q), batch_size):
        # exact differences, not the |a|^2 - 2ab + |b|^2 shortcut, which puts an identical copy at ~0.01
        d = torch.cdist(q[i:i + batch_size], r, compute_mode="donot_use_mm_for_euclid_dist")   # (B, m)
        v, j = d.topk(k, dim=1, largest=False)                                        # (B, k) each
        dists.append(v)
        idx.append(j)
    return torch.cat(dists), torch.cat(idx)


@torch.no_grad()
def classifier_features(images) -> torch.Tensor:
    """(N, 1, s, s) digits in [0, 1] (s = 8 or 28) -> (N, 128) features of the course's digit classifier."""
    from course_lib.metrics.classifier import load_classifier
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.dim() != 4 or x.size(1) != 1 or x.size(2) != x.size(3):
        raise ValueError(f"images must be (N, 1, s, s), got shape {tuple(x.shape)}")
    return load_classifier(x.size(-1)).features(x.clamp(0, 1))


@dataclass(frozen=True)
class CopyReport:
    distance: torch.Tensor      # (n,) each sample's distance to its nearest training image
    index: torch.Tensor         # (n,) which training image
    threshold: float            # the quantile of held-out real images' nearest distances
    is_copy: torch.Tensor       # (n,) bool: distance < threshold
    space: str

    @property
    def share(self) -> float:
        return float(self.is_copy.float().mean())


def near_copies(samples, train, heldout, *, space: str = "pixel", quantile: float = 0.05) -> CopyReport:
    """Which samples are near-copies of a training image: closer to it than `quantile` of real held-out
    images are to theirs. space: "pixel" or "features" (the digit classifier's)."""
    if space not in ("pixel", "features"):
        raise ValueError(f"space must be 'pixel' or 'features', got {space!r}")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    samples, train, heldout = _flat(samples, "samples"), _flat(train, "train"), _flat(heldout, "heldout")
    if space == "features":
        side = int(round(samples.size(1) ** 0.5))
        samples, train, heldout = (classifier_features(x.reshape(len(x), 1, side, side))
                                   for x in (samples, train, heldout))
    d_real, _ = nearest(heldout, train)
    threshold = float(torch.quantile(d_real[:, 0], quantile))
    d, j = nearest(samples, train)
    return CopyReport(d[:, 0], j[:, 0], threshold, d[:, 0] < threshold, space)


def closest_pairs(samples, train, report: CopyReport, *, n: int = 8) -> torch.Tensor:
    """The n samples closest to a training image beside that image, for a figure: (n, 2, ...) with
    [:, 0] the sample and [:, 1] its nearest training image, closest first."""
    samples, train = torch.as_tensor(samples), torch.as_tensor(train)
    if len(report.distance) != len(samples):
        raise ValueError(f"the report covers {len(report.distance)} samples, got {len(samples)}")
    order = report.distance.argsort()[:n]                                             # (n,)
    return torch.stack([samples[order], train[report.index[order]]], dim=1)           # (n, 2, ...)
