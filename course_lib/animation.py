"""Short image animations (an interpolation, a denoising trajectory): a GIF file or HTML for a notebook.

    frames = interpolate(model, z0, z1, frames=16)           # (F, C, H, W) in [0, 1]
    save_gif(frames, "walk.gif", fps=8)                      # written atomically
    html_animation(frames)                                   # an IPython HTML object (plain str outside IPython)

Frames are (F, H, W), (F, C, H, W) with C = 1 or 3, or (F, N, C, H, W) for N images side by side, in [0, 1].
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch


def _frames(frames) -> np.ndarray:
    """(F, H, W) grey or (F, H, W, 3) colour floats in [0, 1]; N images per frame are put side by side."""
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().float().numpy()
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a torch.Tensor or numpy array, got {type(frames).__name__}")
    f = frames
    if f.ndim == 5:                                                       # (F, N, C, H, W) -> (F, C, H, N*W)
        f = np.concatenate(list(f.transpose(1, 0, 2, 3, 4)), axis=-1)
    if f.ndim == 4 and f.shape[1] in (1, 3):
        f = f[:, 0] if f.shape[1] == 1 else f.transpose(0, 2, 3, 1)     # (F, H, W) or (F, H, W, 3)
    elif f.ndim != 3:
        raise ValueError("frames must be (F, H, W), (F, C, H, W) with C = 1 or 3, or (F, N, C, H, W), "
                         f"got shape {frames.shape}")
    if f.shape[0] < 1:
        raise ValueError("frames is empty: an animation needs at least one frame")
    if not np.isfinite(f).all():
        raise ValueError("frames contain NaN or inf")
    return np.clip(f, 0.0, 1.0)


def animate(frames, fps: int = 8, size: float = 2.0):
    """A matplotlib FuncAnimation of the frames (grey images drawn black on white, as the course's grids)."""
    import matplotlib.pyplot as plt
    from matplotlib import animation
    f = _frames(frames)
    if isinstance(fps, bool) or not isinstance(fps, int) or fps < 1:
        raise ValueError(f"fps must be a positive int, got {fps!r}")
    h, w = f.shape[1:3]
    fig, ax = plt.subplots(figsize=(size * w / h, size), dpi=80)
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    im = ax.imshow(f[0], cmap="gray_r" if f.ndim == 3 else None, vmin=0, vmax=1, interpolation="nearest")

    def show(i):
        im.set_data(f[i])
        return (im,)
    anim = animation.FuncAnimation(fig, show, frames=len(f), interval=1000 / fps, blit=True)
    plt.close(fig)                                                        # no extra static figure in a notebook
    return anim


def save_gif(frames, path, fps: int = 8, size: float = 2.0) -> Path:
    """Write the frames as a looping GIF at `path` (matplotlib's PillowWriter). Written to a temporary
    file first and renamed, so an interrupted run never leaves half a GIF. Returns the path."""
    from matplotlib.animation import PillowWriter
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path must end in .gif, got {str(path)!r}")
    anim = animate(frames, fps, size)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.gif")
    try:
        anim.save(tmp, writer=PillowWriter(fps=fps))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def html_animation(frames, fps: int = 8, size: float = 2.0):
    """The animation as self-contained HTML with play controls (IPython.display.HTML in a notebook)."""
    html = animate(frames, fps, size).to_jshtml(fps=fps, default_mode="loop")
    try:
        from IPython.display import HTML
    except ImportError:
        return html
    return HTML(html)
