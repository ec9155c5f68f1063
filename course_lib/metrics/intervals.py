"""Confidence intervals for proportions: accuracies, shares of samples, detection rates."""
from __future__ import annotations

import math

Z95 = 1.959964


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (95% by default): stays inside [0, 1] and is sensible at 0 or n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    if k == 0 or k == n:                        # the closed form, without rounding noise at the edge
        bound = n / (n + z * z)
        return (0.0, 1 - bound) if k == 0 else (bound, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
