"""Every `explore(...)` in the course, built as a widget the way a student meets it.

Each notebook that calls `explore(` runs once, top to bottom, in a kernel with widgets enabled (no
COURSE_HEADLESS, inline figures; COURSE_FAST=1 keeps it short). Every cell must run without an error (cells
tagged raises-exception excepted) and every cell tagged nbval-check-output must print what the notebook
stored, compared as `pytest --nbval-lax` compares it. Each explore call must display one widget whose Output
holds a figure; then each of its controls is moved to the other end of its range, as a student would, and
each move must redraw without an error.

This run stands in for nbval's own run of the same notebooks: when both are collected, tests/conftest.py
deselects nbval's cells of these notebooks, so each runs once in `make test` instead of twice.
"""
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import coalesce_streams, transform_streams_for_comparison

from kernel_helpers import WIDGET_VIEW, Kernel, errors, opened_models, pngs, update, widget_views

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


# The output fields nbval-lax leaves out of its comparison (nbval.plugin.IPyNbFile.skip_compare).
NBVAL_SKIP = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
              "image/png", "image/jpeg", WIDGET_VIEW}


def comparable(outputs: list) -> dict[str, list]:
    """A cell's outputs as nbval-lax compares them: streams coalesced by name, then every field except the
    ones nbval skips (images, widget model ids, metadata, execution counts) in order of appearance."""
    fields: dict[str, list] = {}
    for out in transform_streams_for_comparison(coalesce_streams([nbformat.from_dict(o) for o in outputs])):
        for key, value in out.items():
            if key in NBVAL_SKIP:
                continue
            items = value.items() if key == "data" else [(key, value)]
            for field, v in items:
                if field not in NBVAL_SKIP:
                    fields.setdefault(field, []).append(v)
    return fields


def cell_outputs(msgs: list[dict]) -> list:
    """The outputs a front end would store for a cell, from its iopub messages."""
    kinds = ("stream", "display_data", "execute_result", "error")
    return [nbformat.v4.output_from_msg(m) for m in msgs if m["msg_type"] in kinds]


def run_with_widgets(path: Path, python: str = sys.executable, cwd: str | None = None,
                     compare_outputs: bool = False) -> int:
    """Run a notebook cell by cell in a kernel of `python` with widgets on; check every explore call as the
    module docstring says, and with `compare_outputs` the nbval-check-output cells. Returns how many
    explorers were built and moved."""
    nb = nbformat.read(path, as_version=4)
    built = 0
    with Kernel(python=python, cwd=cwd or str(path.parent)) as k:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue                    # the Colab setup cell runs too: it does nothing where course_lib is
            msgs = k.execute(cell.source, timeout=900)
            where = f"{path.name} cell {index}"
            tags = cell.metadata.get("tags", [])
            if "raises-exception" not in tags:
                assert errors(msgs) == [], f"{where}: {errors(msgs)}"
            if compare_outputs and "nbval-check-output" in tags:
                stored, got = comparable(cell.outputs), comparable(cell_outputs(msgs))
                assert got == stored, f"{where} (nbval-check-output) printed\n{got}\nbut the notebook stores\n{stored}"
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
    assert run_with_widgets(path, compare_outputs=True) == calls


def test_a_changed_printout_fails_as_under_nbval(tmp_path):
    """The comparison that replaces nbval's run of these notebooks must catch what nbval-lax catches: a
    nbval-check-output cell printing something else than the notebook stores; untagged cells may differ."""
    checked = nbformat.v4.new_code_cell("print('mean 0.50')", metadata={"tags": ["nbval-check-output"]})
    checked.outputs = [nbformat.v4.new_output("stream", name="stdout", text="mean 0.50\n")]
    loose = nbformat.v4.new_code_cell("print('anything')")
    loose.outputs = [nbformat.v4.new_output("stream", name="stdout", text="something else\n")]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[loose, checked]), path)
    assert run_with_widgets(path, compare_outputs=True) == 0
    checked.source = "print('mean', 0.5)"              # prints "mean 0.5": what nbval would flag
    nbformat.write(nbformat.v4.new_notebook(cells=[loose, checked]), path)
    with pytest.raises(AssertionError, match="nbval-check-output"):
        run_with_widgets(path, compare_outputs=True)
