"""A simple invisible image watermark: a keyed spread-spectrum pattern in a mid-frequency DCT band.

Cox et al. (1997)'s idea in its smallest form. Take the image's 2-D DCT (C = D X D^T with D the orthonormal
DCT-II matrix), add alpha * w to the coefficients of a band of mid frequencies (lo <= u + v <= hi), where w is
a ±1 pattern drawn from the key, and transform back. Spread over hundreds of coefficients, each change is
tiny (invisible), but their sum is not: with the key, the detector correlates the band with w,

    score = sum(c * w) / sqrt(sum(c^2))                       (about N(0, 1) for an unmarked image)

and a marked image scores about alpha * n / sqrt(sum(c^2)). Mid frequencies are the compromise: low ones
carry the digit (changing them shows), high ones are the first that blur and compression remove.
Works on MNIST's 28x28 (784 coefficients; the 8x8 digits have 64, too few to spread a pattern over). The
image itself is the detector's noise (a digit's band coefficients vary by 0.05-0.2), so on images this small a
mark strong enough to detect is faint but not invisible (PSNR ~25 dB at the defaults): benchmarks/ethics_watermark.py.

    wm = ImageWatermark(key=7)                                 # alpha 0.05 on the band 16 <= u+v <= 34
    marked = wm.embed(images)                                  # (N, 1, H, W) in [0, 1], 256 grey levels
    wm.score(marked), wm.score(images)                         # (N,) each: high, about N(0, 1)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from course_lib.ethics.detect import dct_matrix   # the orthonormal DCT-II basis, shared with the detectors
from course_lib.ethics.watermark import check_key


def _check_images(images) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.size(1) != 1 or images.size(2) != images.size(3):
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a float tensor (N, 1, H, H) in [0, 1], got {got}")
    return images.float()


@dataclass(frozen=True)
class ImageWatermark:
    """key (int), alpha (strength per DCT coefficient), the band lo <= u+v <= hi, levels (grey levels kept)."""

    key: int
    alpha: float = 0.05
    lo: int = 16
    hi: int = 34
    levels: int | None = 256          # quantise the marked image as an 8-bit file would; None: keep floats

    def __post_init__(self):
        check_key(self.key)
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        if not 0 < self.lo <= self.hi:
            raise ValueError(f"the band needs 0 < lo <= hi, got lo={self.lo!r}, hi={self.hi!r}")

    def band(self, size: int) -> torch.Tensor:
        """(size, size) bool: the DCT coefficients (u, v) that carry the mark."""
        u = torch.arange(size)
        s = u[:, None] + u[None, :]
        if self.hi > 2 * (size - 1):
            raise ValueError(f"hi={self.hi} is beyond the highest frequency u+v={2 * (size - 1)} of {size}x{size}")
        return (s >= self.lo) & (s <= self.hi)

    def pattern(self, size: int) -> torch.Tensor:
        """(size, size) the keyed ±1 pattern on the band, 0 elsewhere (the same for every call with this key)."""
        g = torch.Generator().manual_seed(self.key % 2**63)
        signs = torch.randint(0, 2, (size, size), generator=g).float() * 2 - 1
        return signs * self.band(size)

    def embed(self, images, iterations: int = 20) -> torch.Tensor:
        """(N, 1, H, H) in [0, 1] -> the marked images in [0, 1] (quantised to `levels`).

        Adding the pattern and clipping to [0, 1] would cut half of it on MNIST's black background. So the
        mark is set by alternating projections: put the band at host band + alpha * w, clip to [0, 1], repeat;
        the frequencies outside the band absorb what clipping needs (e.g. a faint grey under the pattern)."""
        x = _check_images(images)
        n = x.size(-1)
        d, band = dct_matrix(n), self.band(n)
        target = d @ x[:, 0] @ d.T + self.alpha * self.pattern(n)                # (N, H, H) band target
        y = x[:, 0]
        for _ in range(max(1, iterations)):
            c = d @ y @ d.T
            c = torch.where(band, target, c)                                     # onto the band constraint
            y = (d.T @ c @ d).clamp(0, 1)                                        # onto the box [0, 1]
        if self.levels:
            y = torch.round(y * (self.levels - 1)) / (self.levels - 1)
        return y[:, None]

    def score(self, images) -> torch.Tensor:
        """(N, 1, H, H) -> (N,) normalised correlation of the band with the pattern (about N(0, 1) unmarked)."""
        x = _check_images(images)
        n = x.size(-1)
        d = dct_matrix(n)
        c = (d @ x[:, 0] @ d.T)                                                 # (N, H, H) DCT coefficients
        w = self.pattern(n)
        num = (c * w).sum((1, 2))
        return num / (c * self.band(n)).pow(2).sum((1, 2)).clamp_min(1e-12).sqrt()


def psnr(a, b) -> torch.Tensor:
    """(N,) peak signal-to-noise ratio in dB of images in [0, 1]: 10 log10(1 / MSE); above ~35 dB looks identical."""
    mse = (a.float() - b.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1 / mse.clamp_min(1e-12))


# ---------------------------------------------------------------------------------- what an image goes through
def add_noise(images, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gaussian noise of standard deviation sigma (in units of the [0, 1] range), clipped to [0, 1]."""
    x = _check_images(images)
    return (x + sigma * torch.randn(x.shape, generator=generator)).clamp(0, 1)


def blur(images, sigma: float) -> torch.Tensor:
    """Gaussian blur (kernel 2*ceil(2 sigma)+1 wide, reflected edges)."""
    x = _check_images(images)
    r = max(1, math.ceil(2 * sigma))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))   # along rows
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1))  # along columns


def crop(images, border: int) -> torch.Tensor:
    """Cut `border` pixels off every side and pad back with black at the same place (the size a detector
    expects; a crop that also shifts or rescales the image defeats this simple detector: see `shift`)."""
    x = _check_images(images).clone()
    if border > 0:
        x[..., :border, :] = 0
        x[..., -border:, :] = 0
        x[..., :, :border] = 0
        x[..., :, -border:] = 0
    return x


def shift(images, pixels: int) -> torch.Tensor:
    """Move the image right and down by `pixels` (black comes in): a tiny geometric change."""
    x = _check_images(images)
    out = torch.zeros_like(x)
    out[..., pixels:, pixels:] = x[..., :x.size(-2) - pixels, :x.size(-1) - pixels]
    return out
