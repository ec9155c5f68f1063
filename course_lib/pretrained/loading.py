"""Load a zoo model: find its file, check its SHA-256 first, then rebuild it through course_lib.checkpoints.

Shipped weights are package data (offline, nothing to download); an entry with a URL is fetched once into
the course's cache by course_lib.data's download helper, which verifies the same SHA-256. The weights are
stored as float16 (half the size) and come back as float32 parameters: load_state_dict copies each
float16 tensor into the float32 parameter the freshly built model already has.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from .builders import builder
import course_lib.pretrained.registry as registry
from .registry import Entry, info


class PretrainedError(RuntimeError):
    """A zoo file is missing, corrupt or stale (its SHA-256 is not the manifest's)."""


def sha256_of(path) -> str:
    from course_lib.data.download import sha256_of as _sha
    return _sha(Path(path))


@contextlib.contextmanager
def weights_file(name_or_entry):
    """A context giving a local Path to an entry's verified weights file."""
    entry = name_or_entry if isinstance(name_or_entry, Entry) else info(name_or_entry)
    if not entry.shipped:
        from course_lib.data.download import fetch     # cached, SHA-256 checked, clear error offline
        yield fetch(entry.url, entry.sha256, f"pretrained-{entry.file}")
        return
    from importlib import resources
    with resources.as_file(registry.weights_dir().joinpath(entry.file)) as path:
        if not path.is_file():
            raise PretrainedError(f"the weights of {entry.name!r} ({path}) are missing from the installed "
                                  "package: reinstall genai-course, or rerun scripts/train_pretrained.py "
                                  f"--only {entry.name}")
        actual = sha256_of(path)
        if actual != entry.sha256:
            raise PretrainedError(
                f"{path} is corrupt or stale: its SHA-256 is {actual}, but the manifest records {entry.sha256} "
                f"for {entry.name!r}. Reinstall genai-course, or retrain it with "
                f"`python scripts/train_pretrained.py --only {entry.name}`.")
        yield path


def _float32(value):
    """float16 tensors (also inside dicts and lists) back to float32; everything else unchanged."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.dtype == torch.float16 else value
    if isinstance(value, dict):
        return {k: _float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_float32(v) for v in value)
    return value


def checkpoint(name: str) -> dict:
    """The verified checkpoint {"state_dict", "config", "meta"} of a zoo model, tensors as float32."""
    from course_lib import checkpoints
    with weights_file(name) as path:
        return _float32(checkpoints.read(path))


def load(name: str, device=None) -> torch.nn.Module:
    """A zoo model, in eval mode, on `device` (default: course_lib.config.get_device()).

    Checks the file's SHA-256 against the manifest before reading it; an unknown name raises an error
    listing the available ones. Text models: `tokenizer(name)` gives the tokenizer they were trained with.
    """
    from course_lib import checkpoints, config
    entry = info(name)
    with weights_file(entry) as path:
        model = checkpoints.load(path, builder(entry.family))     # float16 weights -> float32 parameters
    return model.to(config.get_device(device)).eval()


def load_or_train(name: str, train_tiny, *, fast: bool | None = None, device=None) -> torch.nn.Module:
    """The zoo's `name` in a full run; with COURSE_FAST=1, `train_tiny()` instead, a small stand-in trained live.

    Notebooks show the real model when a student runs them and stay quick under the notebook tests; the
    printed line says which one the rest of the notebook uses, so no figure is mistaken for the other.
    `train_tiny` takes no arguments and returns a model; `fast` overrides COURSE_FAST (tests, instructors).
    """
    import time
    from course_lib import config
    entry = info(name)                                   # an unknown name fails first, in both modes
    if config.is_fast() if fast is None else fast:
        start = time.perf_counter()
        model = train_tiny()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"train_tiny for {name!r} must return a torch.nn.Module, got {type(model).__name__}")
        print(f"{name}: a tiny stand-in trained live in {time.perf_counter() - start:.1f} s (fast mode)")
        return model.to(config.get_device(device)).eval()
    model = load(name, device=device)
    steps = entry.training.get("steps") if isinstance(entry.training, dict) else None
    trained = f"{steps:,} training steps, " if steps else ""
    print(f"{name}: loaded from the pretrained zoo ({trained}{sum(p.numel() for p in model.parameters()):,} parameters)")
    return model


def load_d2t_run(name: str = "stocks-reports", train_tiny=None, *, fast: bool | None = None):
    """A data-to-text zoo model as a recipes.data_to_text.Run (model, tokenizer, placeholders), on the CPU
    (generate samples token by token on CPU tensors). With train_tiny (no arguments -> a Run) it behaves as
    load_or_train: under COURSE_FAST=1 (or fast=True) train_tiny() runs instead; the printed line says which.
    It lives here, not in the recipe, so that the recipe never imports the zoo (the zoo evaluates the recipe)."""
    from course_lib.recipes.data_to_text import Run, run_from_checkpoint
    tiny: dict = {}

    def _tiny():
        tiny["run"] = train_tiny()
        if not isinstance(tiny["run"], Run):
            raise TypeError(f"train_tiny must return a data_to_text.Run, got {type(tiny['run']).__name__}")
        return tiny["run"].model

    if train_tiny is None:
        return run_from_checkpoint(load(name, device="cpu"), checkpoint(name)["meta"])
    model = load_or_train(name, _tiny, fast=fast, device="cpu")
    if tiny:
        return tiny["run"]
    return run_from_checkpoint(model, checkpoint(name)["meta"])


def tokenizer(name: str):
    """The tokenizer a zoo text model was trained with (rebuilt from its checkpoint's meta)."""
    from course_lib.tokenizers import tokenizer_from_meta
    meta = checkpoint(name)["meta"]
    if "tokenizer" not in meta:
        raise ValueError(f"{name!r} is a {info(name).family} model and has no tokenizer")
    return tokenizer_from_meta(meta)


def latent_mixture(name: str):
    """The Gaussian mixture over latent codes fitted after training a zoo VAE (better samples than N(0, I))."""
    from course_lib.models.latent_mixture import LatentMixture
    meta = checkpoint(name)["meta"]
    if "latent_mixture" not in meta:
        raise ValueError(f"{name!r} has no fitted latent mixture (only unconditional VAEs store one)")
    return LatentMixture.from_state(meta["latent_mixture"])
