"""What `genai-course sample` writes for image models, the same for every family, and the --option check
every family's train and sample verbs share.

One .npz file: `images` float32 in [0, 1] with shape (N, 1, H, W) (2-D toy models: `x`, shape (N, 2)),
plus `labels` (N,) int64 for conditional models. Written to a temp file and renamed, so an interrupted
run never leaves a half-written file behind.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def check_options(what: str, options: dict, known) -> None:
    """Refuse --option keys a family does not know, naming the known ones (a typo must not be ignored)."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise SystemExit(f"error: unknown {what} option(s) {unknown}; known: {sorted(known)}")


def labels_for(n: int, num_classes: int, options: dict) -> torch.Tensor | None:
    """The labels a conditional model draws: --option label=D for n of one digit, else 0, 1, ... in turn.
    None for an unconditional model (num_classes 0)."""
    if not num_classes:
        return None
    if "label" in options:
        label = int(options["label"])
        if not 0 <= label < num_classes:
            raise SystemExit(f"error: label must be in 0..{num_classes - 1}, got {label}")
        return torch.full((n,), label, dtype=torch.long)
    return torch.arange(n) % num_classes


def write_npz(out: Path | None, samples: torch.Tensor, labels: torch.Tensor | None = None) -> str:
    """Save samples (and labels) to `out` atomically; returns the line the command prints."""
    key = "x" if samples.dim() == 2 else "images"
    shape = tuple(samples.shape[1:])
    if out is None:
        return f"drew {len(samples)} samples of shape {shape} (no --out given, nothing written)"
    arrays = {key: samples.detach().float().cpu().numpy().astype(np.float32)}
    if labels is not None:
        arrays["labels"] = labels.cpu().numpy()
    write_arrays(out, **arrays)
    return f"wrote {len(samples)} samples {shape} to {out}" + (" with labels" if labels is not None else "")


def read_images(path, shape: tuple) -> torch.Tensor:
    """The `images` array of an .npz written by `genai-course sample` (or any .npz with one), checked to be
    (N, *shape) in [0, 1]; a clear error names what was expected and what came."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: no such images file {path} (an .npz with an `images` array, e.g. from "
                         "`genai-course sample CKPT --out S.npz`)")
    try:
        with np.load(path, allow_pickle=False) as f:
            if "images" not in f.files:
                raise SystemExit(f"error: {path} has no `images` array (it has {sorted(f.files)})")
            raw = f["images"]
    except (OSError, ValueError, AttributeError, TypeError) as err:   # not a zip, or a lone .npy array
        raise SystemExit(f"error: {path} is not a readable .npz file ({err})") from None
    if not np.issubdtype(raw.dtype, np.floating):
        hint = (f" (grey levels 0..{raw.max()}? divide by {raw.max()})"
                if np.issubdtype(raw.dtype, np.integer) and raw.size and raw.max() > 1 else "")
        raise SystemExit(f"error: {path}: images must be float (float32) in [0, 1], got dtype {raw.dtype}{hint}")
    images = torch.from_numpy(raw.astype(np.float32))
    if images.dim() != 4 or tuple(images.shape[1:]) != tuple(shape) or len(images) == 0:
        raise SystemExit(f"error: {path}: images must be (N, {', '.join(map(str, shape))}), got {tuple(images.shape)}")
    bad = int((~torch.isfinite(images)).sum())
    if bad:
        raise SystemExit(f"error: {path}: images must be finite numbers in [0, 1], got {bad} NaN or inf values")
    if images.min() < 0 or images.max() > 1:
        raise SystemExit(f"error: {path}: images must be finite and in [0, 1], got values in "
                         f"[{images.min().item():.3g}, {images.max().item():.3g}]")
    return images


def write_arrays(out: Path, **arrays) -> None:
    """np.savez(out, **arrays), atomically (a temp file renamed): an interrupted run leaves nothing behind."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.npz")    # np.savez adds .npz unless the name ends with it
    try:
        np.savez(tmp, **arrays)
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
