"""Plots the course draws again and again: image grids, 2-D samples against the true modes, loss curves.

Every function takes tensors or NumPy arrays, draws into `ax` (or a new small figure) and returns the
Axes, so a notebook can add to it. Figures stay small (dpi 80) to keep committed notebooks light.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

DPI = 80


def setup() -> None:
    """Readable, light defaults for notebook figures (call once at the top of a notebook)."""
    plt.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": DPI, "figure.figsize": (5, 3.5),
        "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
        "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False,
        "image.cmap": "gray", "image.interpolation": "nearest",
    })


def _numpy(x, what: str) -> np.ndarray:
    """A tensor, array or list as a float NumPy array (tensors are detached and moved to the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a tensor or array of numbers, got {type(x).__name__}") from None


def _axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, dpi=DPI)
    return ax


def image_grid(images, nrow=None, labels=None, title=None, ax=None):
    """Tile N images into one picture; `nrow` images per row (default about sqrt(N)).

    images: (N, 1, H, W), (N, 3, H, W) or (N, H, W). Values in [0, 1] are shown as they are; any other
    range (e.g. [-1, 1] from a tanh) is stretched from its min to its max.
    labels: optional N labels (class ids, names, ...) written in each tile's corner.
    """
    x = _numpy(images, "images")
    if x.ndim == 3:
        x = x[:, None]                                     # (N, H, W) -> (N, 1, H, W)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or x.shape[0] == 0:
        raise ValueError("images must have shape (N, 1, H, W), (N, 3, H, W) or (N, H, W) with N >= 1, "
                         f"got {tuple(np.shape(images))}")
    n, c, h, w = x.shape
    if labels is not None:
        labels = [_label(v) for v in (labels.tolist() if hasattr(labels, "tolist") else labels)]
        if len(labels) != n:
            raise ValueError(f"labels must have one entry per image ({n}), got {len(labels)}")
    if nrow is not None and (not isinstance(nrow, int) or nrow < 1):
        raise ValueError(f"nrow (images per row) must be a positive int or None, got {nrow!r}")
    ncol = min(nrow or math.ceil(math.sqrt(n)), n)
    rows = math.ceil(n / ncol)

    lo, hi = (0.0, 1.0) if x.min() >= 0 and x.max() <= 1 else (x.min(), x.max())
    pad = 1                                        # light line between tiles
    strip = 0 if labels is None else max(3, h // 3)  # room above each tile for its label
    th, tw = strip + h + pad, w + pad                # one tile's height and width, with its padding
    grid = np.full((rows * th + pad, ncol * tw + pad, c), hi, dtype=np.float64)
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = pad + r * th + strip, pad + col * tw
        grid[top:top + h, left:left + w] = x[i].transpose(1, 2, 0)   # (C, H, W) -> (H, W, C)

    cell = 0.5 if h <= 16 else 0.8                                   # inches per tile
    ax = _axes(ax, (min(8.0, max(2.0, cell * ncol)), min(8.0, max(2.0, cell * rows * th / tw))))
    if c == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    else:
        ax.imshow((grid - lo) / max(hi - lo, 1e-12), interpolation="nearest")
    for i, text in enumerate(labels or []):
        r, col = divmod(i, ncol)
        ax.text(pad + col * tw + w / 2, pad + r * th + strip / 2 - 0.5, text, fontsize=7,
                ha="center", va="center")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def _label(v) -> str:
    return f"{v:.2g}" if isinstance(v, float) else str(v)


def _points(x, what: str) -> np.ndarray:
    p = _numpy(x, what)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"{what} must have shape (n, 2), got {tuple(p.shape)}")
    return p


def scatter2d(points, modes=None, title=None, ax=None, real=None):
    """Scatter 2-D samples (n, 2); optionally the real data (grey, behind) and the true mode centres (red x).

    Equal aspect, so a circle of modes looks like a circle.
    """
    p = _points(points, "points")
    ax = _axes(ax, (4, 4))
    if real is not None:
        r = _points(real, "real")
        ax.scatter(r[:, 0], r[:, 1], s=4, color="0.6", alpha=0.4, label="real data")
    ax.scatter(p[:, 0], p[:, 1], s=4, color="tab:blue", alpha=0.6, label="samples")
    if modes is not None:
        m = _points(modes, "modes")
        ax.scatter(m[:, 0], m[:, 1], s=60, marker="x", color="tab:red", linewidths=2, label="true modes")
    if real is not None or modes is not None:
        legend = ax.legend(loc="best", framealpha=0.8)
        for handle in legend.legend_handles:
            handle.set_sizes([20])                     # legend markers readable, whatever the plot uses
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"{len(p)} samples")
    return ax


def _curves(curves) -> dict[str, tuple[np.ndarray, np.ndarray, bool]]:
    """Normalise the accepted inputs to {label: (steps, values, is_eval)}."""
    items = curves.items() if isinstance(curves, dict) else [("", curves)]
    out = {}
    for name, c in items:
        if all(hasattr(c, a) for a in ("steps", "logs", "evals")):   # a train.History (viz must not import train)
            for key, values in c.logs.items():
                label = key if not name else (name if len(c.logs) == 1 else f"{name}: {key}")
                out[label] = (np.asarray(c.steps[:len(values)]), np.asarray(values, dtype=float), False)
            for key in sorted({k for e in c.evals for k in e if k != "step"}):
                pts = [(e["step"], e[key]) for e in c.evals if key in e]
                label = f"eval {key}" if not name else f"{name}: eval {key}"
                out[label] = (np.array([s for s, _ in pts]), np.array([v for _, v in pts], float), True)
        else:
            values = _numpy(c, f"curve {name!r}" if name else "curves")
            if values.ndim != 1:
                raise ValueError("a curve must be a History or a 1-D list of losses, "
                                 f"got shape {tuple(values.shape)}")
            out[name or "loss"] = (np.arange(1, len(values) + 1), values, False)
    return out


def loss_curves(curves, ax=None, logy: bool = False):
    """Plot training curves: a History, a list of losses, or a dict name -> History/list to compare runs.

    A History contributes every logged value per step and its evaluations (dots at the eval steps).
    """
    ax = _axes(ax, (5, 3.5))
    for label, (steps, values, is_eval) in _curves(curves).items():
        if is_eval:
            ax.plot(steps, values, "o--", markersize=4, label=label)
        else:
            ax.plot(steps, values, linewidth=1, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("Training curves")
    if len(ax.lines) > 1:
        ax.legend()
    return ax
