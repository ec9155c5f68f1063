"""Save a trained model together with the config that built it, and load it back safely.

A checkpoint is one file holding {"state_dict", "config", "meta"}: the weights alone are not enough,
because rebuilding the model needs its sizes (the config). Files are read with
torch.load(weights_only=True), which refuses to run pickled code, so a downloaded checkpoint cannot
execute anything. Saving goes to a temp file first and is then renamed into place, so a crash
mid-save never leaves a half-written checkpoint (the previous one stays as it was).

    checkpoints.save(path, model, model.config_dict(), steps=2000)
    model = checkpoints.load(path, CharMLP.from_config)   # rebuilt from the config, weights loaded, eval mode
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

_KEYS = ("state_dict", "config", "meta")
_PLAIN = (str, int, float, bool, type(None), torch.Tensor)


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable, or does not fit the model it should load into."""


def _check_plain(value, where: str) -> None:
    """Only plain values survive torch.load(weights_only=True): refuse anything else at save time."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} keys must be str, got {k!r}")
            _check_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN):
        raise TypeError(f"{where} is a {type(value).__name__}; checkpoints store only plain values "
                        "(str, int, float, bool, None, tensors, and lists/tuples/dicts of them)")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(path, model: torch.nn.Module, config: dict, **meta) -> Path:
    """Write model weights + config (+ any plain meta, e.g. steps=2000) to `path` atomically."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict of the model's constructor arguments, got {type(config).__name__}")
    _check_plain(config, "config")
    _check_plain(meta, "meta")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Weights go to the CPU so a checkpoint trained on a GPU loads anywhere.
    state = {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in model.state_dict().items()}
    payload = {"state_dict": state, "config": config, "meta": meta}

    # Temp file in the same folder: os.replace is then an atomic rename on the same file system.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())   # mkstemp makes 0600; a saved model is an ordinary file (0644 usually)
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # nothing half-written is left behind
        raise
    return path


def _reason(exc: Exception) -> str:
    """The useful line of a torch.load error (not torch's advice to retry with weights_only=False)."""
    text = str(exc).split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0].split(". ")[0][:200] if lines else "the file ended early"
    return f"{type(exc).__name__}: {first}"


def read(path) -> dict:
    """Return {"state_dict", "config", "meta"} from a checkpoint file, without building a model."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: the file does not exist "
                              "(train and save the model first, or check the path)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt, truncated, not a PyTorch "
                              f"file, or holding pickled objects that are not allowed): {_reason(exc)}. "
                              "Delete it and save or download it again.") from exc
    if not isinstance(payload, dict) or any(k not in payload for k in _KEYS) \
            or not isinstance(payload["state_dict"], dict):
        got = sorted(payload)[:5] if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} is a PyTorch file but not a course checkpoint: expected keys "
                              f"{list(_KEYS)}, got {got}. Write checkpoints with checkpoints.save().")
    return payload


def _mismatch(model_state: dict, ckpt_state: dict) -> list[str]:
    """Human-readable differences between the model's state_dict and the checkpoint's."""
    problems = []
    missing = [k for k in model_state if k not in ckpt_state]
    unexpected = [k for k in ckpt_state if k not in model_state]
    if missing:
        problems.append(f"missing keys {missing[:5]}" + (" ..." if len(missing) > 5 else ""))
    if unexpected:
        problems.append(f"unexpected keys {unexpected[:5]}" + (" ..." if len(unexpected) > 5 else ""))
    for k, v in model_state.items():
        theirs, ours = getattr(ckpt_state.get(k), "shape", None), getattr(v, "shape", None)
        if k in ckpt_state and theirs != ours:
            problems.append(f"{k}: checkpoint has shape {tuple(theirs or ())}, model has {tuple(ours or ())}")
    return problems


def load_with_meta(path, build) -> tuple[torch.nn.Module, dict]:
    """load(path, build) and the checkpoint's meta dict (what else the trainer saved: a tokenizer, a
    fitted latent mixture, figures), from one read of the file."""
    ckpt = read(path)
    config = ckpt["config"]
    try:
        model = build(**config) if isinstance(build, type) else build(config)
    except Exception as exc:
        raise CheckpointError(f"could not build a model from the config in {path} ({config}): "
                              f"{type(exc).__name__}: {exc}. Is this checkpoint for a different model "
                              "or an older version of it?") from exc
    if not isinstance(model, torch.nn.Module):
        raise CheckpointError(f"build returned a {type(model).__name__}, expected a torch.nn.Module")
    problems = _mismatch(model.state_dict(), ckpt["state_dict"])
    if problems:
        raise CheckpointError(f"{path} does not match the model built from its config: "
                              + "; ".join(problems))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), ckpt["meta"]


def load(path, build) -> torch.nn.Module:
    """Rebuild the model from the saved config and load its weights; returned in eval mode.

    build: the model class (called as build(**config)) or any callable build(config) -> nn.Module,
    e.g. a family's `Model.from_config` (the protocol of course_lib.models).
    """
    return load_with_meta(path, build)[0]
