"""One place for the course's run-time settings: fast mode, folders, offline mode, seeds, device.

Every notebook and training run reads its budget from here, so `COURSE_FAST=1` shrinks the whole
course at once (CI, tests) while the same code runs in full on a student's machine.

torch is imported inside the functions that need it: the instructor verbs (`genai-course collect`,
`autograde`, ...) read settings from here and start in a fraction of a second instead of paying for torch.
"""
from __future__ import annotations

import os
import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_fast() -> bool:
    """True when COURSE_FAST=1: every notebook and training run shrinks (tests, CI)."""
    return _flag("COURSE_FAST")


def is_offline() -> bool:
    """True when COURSE_OFFLINE=1: downloads fail with a clear message instead of touching the network."""
    return _flag("COURSE_OFFLINE")


def data_dir() -> Path:
    """Cache folder for downloads and checkpoints (COURSE_DATA_DIR, default ~/.cache/genai-course)."""
    root = os.environ.get("COURSE_DATA_DIR") or Path.home() / ".cache" / "genai-course"
    return Path(root).expanduser()


FAST_BANNER = ("FAST MODE (COURSE_FAST=1): every training budget in this notebook is cut to a small fraction. "
               "The cells below show that the code runs; their losses, samples and scores are far from what "
               "the models reach in a full run. Unset COURSE_FAST (or set it to 0) for the real results.")
_banner_shown = False


def _show_fast_banner() -> None:
    """Once per notebook kernel: say, where the reader sees it, that the figures are not meaningful."""
    global _banner_shown
    if _banner_shown:
        return
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:                                      # plain Python: scripts and the CLI print their own mode
        shell = None
    if shell is None or not hasattr(shell, "kernel"):
        return
    _banner_shown = True
    from IPython.display import display
    head, rest = FAST_BANNER.split(":", 1)
    html = ('<div style="border:2px solid #c60;background:#fff4e5;color:#000;padding:6px 10px;margin:4px 0">'
            f"<b>&#9888; {head}</b>:{rest}</div>")
    display({"text/html": html, "text/plain": "⚠ " + FAST_BANNER}, raw=True)


def budget(full, fast):
    """Pick a training budget (steps, seconds, sizes): `full` normally, `fast` under COURSE_FAST=1.

    In fast mode the first call in a notebook kernel shows a banner saying the results are not meaningful."""
    if is_fast():
        _show_fast_banner()
        return fast
    return full


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and GPU) so a notebook tells the same story twice.

    Returns a torch.Generator seeded the same way, for code that wants its own stream.
    """
    import torch
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """The best available device: cuda, then mps, then cpu. COURSE_DEVICE or `prefer` overrides."""
    import torch
    choice = prefer or os.environ.get("COURSE_DEVICE")
    if choice:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was requested but CUDA is not available; use 'cpu'")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_threads(n: int | None = None) -> int:
    """Set PyTorch's CPU threads (COURSE_THREADS; default min(2, cores)).

    Small MLPs train no faster on 2 threads than on 1 here; small transformers gain a little.
    """
    if n is None:
        n = int(os.environ.get("COURSE_THREADS", "0")) or min(2, os.cpu_count() or 1)
    import torch
    torch.set_num_threads(n)
    return n


def describe() -> str:
    """One line for the top of a notebook: mode, device, seed folder."""
    import torch
    mode = "FAST (COURSE_FAST=1)" if is_fast() else "full"
    return f"course_lib: mode={mode}, device={get_device()}, torch {torch.__version__}, data dir {data_dir()}"


def is_headless() -> bool:
    """True when no notebook front end will show widgets (COURSE_HEADLESS=1: tests, `genai-course run`)."""
    return _flag("COURSE_HEADLESS")


def progress(*args, **kwargs):
    """A tqdm progress bar: a widget in Jupyter, plain text when headless.

    Headless runs save their output into the notebook; a widget bar would be saved at 0%, a text bar is
    saved at its final state, so the committed notebook shows how long the loop really ran.
    """
    if is_headless():
        from tqdm.std import tqdm
        kwargs.setdefault("mininterval", 2.0)
    else:
        from tqdm.auto import tqdm
    return tqdm(*args, **kwargs)


@contextmanager
def environ(values: dict):
    """Set environment variables for the block (kernels started inside inherit them), then put every one
    back as it was, unset ones unset, also when the block raises."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
