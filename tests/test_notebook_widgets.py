"""Every `explore(...)` in the course, built as a widget the way a student meets it.

Each notebook that calls `explore(` runs once, cell by cell up to its last explorer, in a kernel with
widgets enabled (no COURSE_HEADLESS, inline figures; COURSE_FAST=1 keeps it short; nbval runs every cell). Each explore call must display one
widget whose Output holds a figure, with no error; then each of its controls is moved to the other end
of its range, as a student would, and each move must redraw without an error.
"""
import sys
from pathlib import Path

import nbformat
import pytest

from kernel_helpers import Kernel, errors, opened_models, pngs, update, widget_views

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions") for p in (ROOT / folder).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts and "explore(" in p.read_text(encoding="utf-8"))


def test_notebooks_with_explorers_are_found():
    names = {p.name for p in NOTEBOOKS}
    assert "01_what_is_generative_modeling.ipynb" in names and len(names) >= 5, names


def explorers(msgs: list[dict], models: dict) -> list[str]:
    """model_ids of the displayed explorers: a VBox of controls above an Output (tqdm bars are HBoxes)."""
    outputs = {f"IPY_MODEL_{cid}" for cid, s in models.items() if s.get("_model_name") == "OutputModel"}
    return [v for v in widget_views(msgs)
            if models.get(v, {}).get("_model_name") == "VBoxModel" and outputs & set(models[v]["children"])]


def other_end(state: dict) -> dict:
    """The change a student makes: a slider to the far end of its range, a dropdown to its last option,
    a text box (a prompt) retyped with its words in the opposite order."""
    if state.get("_model_name") == "TextModel":
        return {"value": " ".join(reversed(state["value"].split()))}
    if "index" in state and "_options_labels" in state:
        return {"index": len(state["_options_labels"]) - 1 if state["index"] == 0 else 0}
    if "max" in state:
        return {"value": state["max"] if state["value"] != state["max"] else state["min"]}
    return {"value": not state["value"]}                 # checkbox


def run_with_widgets(path: Path, python: str = sys.executable, cwd: str | None = None,
                     stop_after_last_explorer: bool = False) -> int:
    """Run a notebook cell by cell in a kernel of `python` with widgets on (its Colab setup cell skipped
    unless `cwd` is given); check every explore call as the module docstring says. Returns how many
    explorers were built and moved."""
    nb = nbformat.read(path, as_version=4)
    built = 0
    last = len(nb.cells) - 1
    if stop_after_last_explorer:        # later cells cannot affect an explorer; nbval runs them anyway
        last = max(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "explore(" in c.source)
    with Kernel(python=python, cwd=cwd or str(path.parent)) as k:
        for index, cell in enumerate(nb.cells[:last + 1]):
            if cell.cell_type != "code" or (cwd is None and "setup" in cell.metadata.get("tags", [])):
                continue                                   # the Colab install cell does nothing here anyway
            msgs = k.execute(cell.source, timeout=900)
            where = f"{path.name} cell {index}"
            if "raises-exception" not in cell.metadata.get("tags", []):
                assert errors(msgs) == [], f"{where}: {errors(msgs)}"
            calls = cell.source.count("explore(")
            if not calls:
                continue
            models = opened_models(msgs)
            views = explorers(msgs, models)
            assert len(views) == calls, f"{where}: {calls} explore call(s), {len(views)} widget(s) shown"
            assert len(pngs(msgs)) >= calls, f"{where}: an explorer drew no figure"
            for view in views:
                controls = [c.removeprefix("IPY_MODEL_") for c in models[view]["children"]]
                controls = [c for c in controls if models[c].get("description")]
                assert controls, f"{where}: explorer without controls"
                for cid in controls:
                    moved = update(k, cid, **other_end(models[cid]))
                    what = f"{where}, {models[cid]['description']} -> {other_end(models[cid])}"
                    assert errors(moved) == [], f"{what}: {errors(moved)}"
                    assert len(pngs(moved)) == 1, f"{what}: {len(pngs(moved))} figures redrawn, expected 1"
                built += 1
    return built


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_explore_call_builds_a_working_widget(path):
    nb = nbformat.read(path, as_version=4)
    calls = sum(c.source.count("explore(") for c in nb.cells if c.cell_type == "code")
    assert run_with_widgets(path, stop_after_last_explorer=True) == calls
