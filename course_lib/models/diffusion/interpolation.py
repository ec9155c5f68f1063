"""Walking between two images in noise space: slerp between their start noises, decoded deterministically.

Gaussian noise in D dimensions lies near a sphere of radius sqrt(D); the straight line between two noises cuts
inside it (at the midpoint its norm is ~sqrt(D/2)), where the model never saw a start, so the middle frames
wash out. Spherical interpolation stays on the sphere. DDIM with eta = 0 (or the flow's ODE) maps each noise
to one image, so neighbouring noises give neighbouring images: an animation.

    z = torch.randn(2, 1, 8, 8)
    frames = interpolate(model, z[0], z[1], frames=16)       # (16, 1, 8, 8); course_lib.animation shows it
"""
from __future__ import annotations

import torch

from course_lib.models.diffusion.editing import _editor
from course_lib.models.diffusion.model import Diffusion


def slerp(z0: torch.Tensor, z1: torch.Tensor, alpha) -> torch.Tensor:
    """Spherical interpolation between two noises of the same shape (...), for each alpha in [0, 1]:
    sin((1 - a) w) / sin w z0 + sin(a w) / sin w z1, w the angle between them (flattened). Returns
    (len(alpha), ...) for a sequence of alphas, or (...) for one. Nearly parallel noises fall back to lerp."""
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    a = torch.as_tensor(alpha, dtype=z0.dtype, device=z0.device)
    single = a.dim() == 0
    a = a.reshape(-1, *([1] * z0.dim()))                                           # (A, 1, ...)
    cos = (z0.flatten() @ z1.flatten()) / (z0.norm() * z1.norm())
    w = torch.arccos(cos.clamp(-1, 1))
    if w.abs() < 1e-4:
        out = (1 - a) * z0 + a * z1
    else:
        out = (torch.sin((1 - a) * w) * z0 + torch.sin(a * w) * z1) / torch.sin(w)
    return out[0] if single else out


@_editor
def interpolate(model, z0: torch.Tensor, z1: torch.Tensor, frames: int = 16, *, steps: int | None = None,
                labels=None, guidance: float = 1.0) -> torch.Tensor:
    """Decode `frames` slerps between start noises z0 and z1 (each (C, H, W), model space) deterministically
    (Diffusion: DDIM, eta 0, `steps` = 50; FlowMatching: Euler, 25). Returns (frames, C, H, W) in [0, 1];
    the first frame is model.sample(1, ..., x_T=z0)'s and the last z1's."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ValueError(f"frames must be an int >= 2, got {frames!r}")
    for name, z in (("z0", z0), ("z1", z1)):
        if not isinstance(z, torch.Tensor) or tuple(z.shape) != tuple(model.data_shape):
            raise ValueError(f"{name} must be one noise of shape {tuple(model.data_shape)}, got "
                             f"{tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}")
    x_T = slerp(z0, z1, torch.linspace(0, 1, frames))                              # (frames, C, H, W)
    if labels is not None and labels.dim() == 0:
        labels = labels.expand(frames)
    if isinstance(model, Diffusion):
        return model.sample(frames, sampler="ddim", steps=steps or 50, eta=0.0, labels=labels,
                            guidance=guidance, x_T=x_T)
    return model.sample(frames, steps=steps or 25, labels=labels, guidance=guidance, x_T=x_T)
