"""Execute notebooks headless with nbclient and time them (used by `genai-course run` and `bench`)."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from course_lib import config


@dataclass
class RunResult:
    notebook: Path
    seconds: float
    ok: bool
    mode: str            # "full" or "fast"
    output: Path | None  # where the executed copy was written
    error: str = ""      # first line of the failure, empty when ok


@contextmanager
def course_mode(fast: bool):
    """Set COURSE_FAST for kernels started inside the block (they inherit this process's environment).

    COURSE_HEADLESS=1 too: a kernel cannot tell that nbclient drives it, and without it widgets would
    render only a widget view, so the saved notebook would show no figure on GitHub or in a preview.
    """
    with config.environ({"COURSE_FAST": "1" if fast else "0", "COURSE_HEADLESS": "1"}):
        yield


def run_notebook(path: Path, out: Path | None, *, fast: bool = False, timeout: int = 900,
                 kernel_name: str = "python3") -> RunResult:
    """Run one notebook top to bottom in its own folder; write the executed copy to `out` (atomically)."""
    path = Path(path)
    if not path.is_file() or path.suffix != ".ipynb":
        raise FileNotFoundError(f"expected an existing .ipynb file, got {str(path)!r}")
    nb = nbformat.read(path, as_version=4)
    # Cells tagged raises-exception (student stubs in exercises/) may fail; everything else must not.
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start, error = time.perf_counter(), ""
    with course_mode(fast):
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError) as exc:
            lines = [line for line in str(exc).strip().splitlines() if line.strip()]
            error = lines[-1] if lines else type(exc).__name__
    seconds = time.perf_counter() - start
    squash_progress(nb)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        nbformat.write(nb, tmp)
        os.replace(tmp, out)
    return RunResult(path, seconds, not error, "fast" if fast else "full", out, error)


def squash_progress(nb) -> int:
    """Keep only the last state of each progress bar in a notebook's outputs; returns outputs removed.

    tqdm redraws a bar by writing "\\r" and the new bar to stderr; nbclient stores every redraw as an
    output of its own, so a committed notebook would show dozens of half-finished bars. Consecutive stderr
    outputs of a cell are joined and each line is cut to what follows its last carriage return, which is
    what a terminal or JupyterLab shows at the end of the run.
    """
    removed = 0
    for cell in nb.cells:
        outputs, kept = cell.get("outputs", []), []
        for out in outputs:
            if (out.get("output_type") == "stream" and out.get("name") == "stderr" and kept
                    and kept[-1].get("output_type") == "stream" and kept[-1].get("name") == "stderr"):
                kept[-1]["text"] += out["text"]
                removed += 1
            else:
                kept.append(out)
        for out in kept:
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and "\r" in out["text"]:
                out["text"] = "\n".join(line.rstrip("\r").split("\r")[-1] for line in out["text"].split("\n"))
        if "outputs" in cell:
            cell["outputs"] = kept
    return removed


def format_table(results: list[RunResult]) -> str:
    """A plain-text time table, one row per notebook run."""
    width = max([len(str(r.notebook)) for r in results] + [8])
    rows = [f"{'notebook':<{width}}  mode  seconds  status", "-" * (width + 24)]
    for r in results:
        status = "ok" if r.ok else f"FAILED: {r.error[:80]}"
        rows.append(f"{str(r.notebook):<{width}}  {r.mode:<4}  {r.seconds:7.1f}  {status}")
    rows.append(f"{'total':<{width}}        {sum(r.seconds for r in results):7.1f}")
    return "\n".join(rows)
