import sys
import types

import pytest

from course_lib import widgets


def recorder():
    calls = []

    def draw(**values):
        calls.append(values)

    return draw, calls


def test_no_frontend_in_tests_scripts_or_when_headless(monkeypatch):
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    assert widgets.has_frontend() is False          # pytest is not a Jupyter kernel
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    assert widgets.has_frontend() is False


def fake_kernel(monkeypatch):
    """Pretend to be inside a Jupyter kernel: get_ipython() returns a shell with a .kernel."""
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)


def test_frontend_detected_inside_a_kernel_unless_headless(monkeypatch):
    fake_kernel(monkeypatch)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    assert widgets.has_frontend() is True
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    assert widgets.has_frontend() is False


def test_headless_explore_calls_fn_once_with_the_defaults(capsys):
    draw, calls = recorder()
    widgets.explore(draw, temperature=(0.1, 2.0, 0.1, 1.0), n=(1, 64, 1, 16),
                    dataset=["ring8", "grid25"], show_modes=True)
    assert calls == [{"temperature": 1.0, "n": 16, "dataset": "ring8", "show_modes": True}]
    assert "static view" in capsys.readouterr().out


def test_frontend_explore_builds_one_control_per_keyword(monkeypatch):
    import ipywidgets as W
    fake_kernel(monkeypatch)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda w: shown.append(w))
    monkeypatch.setattr("IPython.display.clear_output", lambda wait=False: None)
    draw, calls = recorder()
    widgets.explore(draw, temperature=(0.1, 2.0, 0.1, 1.0), n=(1, 64, 1, 16), dataset=["a", "b"], flag=False)
    (box,) = shown
    kinds = {c.description: type(c) for c in box.children if hasattr(c, "description")}
    assert kinds == {"temperature": W.FloatSlider, "n": W.IntSlider, "dataset": W.Dropdown, "flag": W.Checkbox}
    assert calls == [{"temperature": 1.0, "n": 16, "dataset": "a", "flag": False}]  # drawn once at start
    slider = next(c for c in box.children if getattr(c, "description", "") == "n")
    slider.value = 32                                   # moving a slider redraws with the new value
    assert calls[-1]["n"] == 32


def test_frontend_explore_leaves_other_arguments_at_their_defaults(monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    plt.close(plt.figure())          # pyplot's own set-up first, in this process as it is (no fake kernel)
    fake_kernel(monkeypatch)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda w: shown.append(w))
    monkeypatch.setattr("IPython.display.clear_output", lambda wait=False: None)
    seen = []

    def draw(level=1.0, ax=None, ymax=None):               # ipywidgets.interactive would choke on ax=None
        seen.append((level, ax, ymax))
        _, ax = plt.subplots()
        ax.set_title(f"level {level}")

    widgets.explore(draw, level=(0.0, 3.0, 0.5, 1.0))
    fig, box = shown                                      # the first figure (drawn into the Output), the box
    assert isinstance(fig, Figure) and fig.axes[0].get_title() == "level 1.0"
    assert [c.description for c in box.children if hasattr(c, "description")] == ["level"]
    assert plt.get_fignums() == []                        # closed: the cell's end does not draw it again
    box.children[0].value = 2.5
    assert seen == [(1.0, None, None), (2.5, None, None)]
    assert shown[-1].axes[0].get_title() == "level 2.5"


@pytest.mark.parametrize("how", ["show", "return", "return bare Figure", "show and return"])
def test_frontend_explore_shows_each_figure_once(monkeypatch, how):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    plt.close(plt.figure())
    fake_kernel(monkeypatch)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda w: shown.append(w))
    monkeypatch.setattr("IPython.display.clear_output", lambda wait=False: None)
    # Agg's plt.show() draws nothing, so "show" here leaves the figure open as the inline backend would
    # not; either way the explorer must display it once and leave no figure open.

    def draw(level=1.0):
        fig = Figure() if how == "return bare Figure" else plt.subplots()[0]
        fig.suptitle(f"level {level}")
        if "show" in how:
            plt.show()
        if "return" in how:
            return fig

    widgets.explore(draw, level=(0.0, 3.0, 0.5, 1.0))
    assert [type(w) for w in shown[:-1]] == [Figure] and plt.get_fignums() == []


@pytest.mark.parametrize("spec, message", [
    ((0, 1, 0.1), "must be \\(min, max, step, default\\)"),
    ((0, 1, 0.1, 5), "min <= default <= max"),
    ((0, 1, 0, 0.5), "step > 0"),
    ([], "non-empty list"),
    (None, "must be"),
    (3, "must be"),
])
def test_bad_controls_are_rejected_before_anything_runs(spec, message):
    draw, calls = recorder()
    with pytest.raises((TypeError, ValueError), match=message):
        widgets.explore(draw, x=spec)
    assert calls == []


def test_a_str_control_is_a_text_box_that_redraws_on_enter(monkeypatch):
    """A prompt box (notebook 08): the text starts as given, and a new text (Enter) redraws with it."""
    import ipywidgets as W
    fake_kernel(monkeypatch)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda w: shown.append(w))
    monkeypatch.setattr("IPython.display.clear_output", lambda wait=False: None)
    draw, calls = recorder()
    widgets.explore(draw, prompt="a red circle", guidance=(0.0, 8.0, 0.5, 3.0))
    (box,) = shown
    text = next(c for c in box.children if getattr(c, "description", "") == "prompt")
    assert type(text) is W.Text and text.value == "a red circle" and text.continuous_update is False
    assert calls == [{"prompt": "a red circle", "guidance": 3.0}]
    text.value = "a blue square"
    assert calls[-1] == {"prompt": "a blue square", "guidance": 3.0}


def test_fn_must_be_callable():
    with pytest.raises(TypeError, match="fn must be a function"):
        widgets.explore("plot", x=(0, 1, 1, 0))


# --- In a real kernel, as JupyterLab and Colab run it (no COURSE_HEADLESS, inline figures) -------------

EXPLORE_IN_KERNEL = '''
import matplotlib.pyplot as plt
from course_lib import widgets

def draw(level=1.0, colour="tab:blue", ax=None, ymax=None):
    """Extra arguments with defaults, like notebook 01's show_next_char(prev, temperature, ax=None, ymax=None)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(2, 2))
    ax.bar([0], [level], color=colour)
    ax.set(ylim=(0, ymax or 3), title=f"level {level}, {colour}")
    plt.show()

widgets.explore(draw, level=(0.0, 3.0, 0.5, 1.0), colour=["tab:blue", "tab:red"])
'''


def control_ids(models: dict) -> dict[str, str]:
    """description -> comm_id of every control among the opened widget models."""
    return {s["description"]: cid for cid, s in models.items() if s.get("description")}


def run_explorer_in_kernel(python=sys.executable):
    """Build the explorer in a fresh kernel of `python`, then move each control; return what happened."""
    from kernel_helpers import Kernel, errors, opened_models, pngs, update, widget_views
    with Kernel(python=python) as k:
        versions = k.execute("import ipywidgets, matplotlib; print(ipywidgets.__version__, matplotlib.get_backend())")
        built = k.execute(EXPLORE_IN_KERNEL)
        models = opened_models(built)
        controls = control_ids(models)
        moved = update(k, controls["level"], value=2.5)
        picked = update(k, controls["colour"], index=1)
    printed = "".join(m["content"]["text"] for m in versions if m["msg_type"] == "stream")
    return dict(printed=printed, built=built, models=models, controls=controls, moved=moved, picked=picked,
                errors=errors, pngs=pngs, widget_views=widget_views)


def check_explorer_run(r):
    """What a student must see: one widget, a figure in it, a new figure after each move, no error."""
    built, moved, picked, models = r["built"], r["moved"], r["picked"], r["models"]
    assert r["errors"](built) == [], r["errors"](built)
    (view,) = r["widget_views"](built)                     # one widget displayed, nothing else
    box = models[view]
    assert box["_model_name"] == "VBoxModel"
    kinds = {s["_model_name"] for s in models.values() if s.get("description")}
    assert set(r["controls"]) == {"level", "colour"}, r["controls"]   # no control for ax or ymax
    assert kinds == {"FloatSliderModel", "DropdownModel"}
    outputs = [cid for cid, s in models.items() if s["_model_name"] == "OutputModel"]
    assert len(outputs) == 1 and f"IPY_MODEL_{outputs[0]}" in box["children"]
    # The first figure is drawn once, inside the Output widget (its msg_id is the cell's, so the
    # front end routes the image there), and not again below it at the end of the cell.
    (first,) = r["pngs"](built)
    routed = [m for m in built if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == outputs[0]
              and m["content"]["data"].get("state", {}).get("msg_id")]
    assert routed, "the Output widget never captured the figure"
    for change in (moved, picked):                         # each move: cleared, redrawn once, no error
        assert r["errors"](change) == [], r["errors"](change)
        assert any(m["msg_type"] == "clear_output" for m in change)
        (png,) = r["pngs"](change)
        assert png != first
    assert r["pngs"](moved)[0] != r["pngs"](picked)[0]


def test_explore_builds_a_widget_that_draws_and_redraws_in_a_real_kernel():
    r = run_explorer_in_kernel()
    version, backend = r["printed"].split()
    assert version == __import__("ipywidgets").__version__ and "inline" in backend
    check_explorer_run(r)


def test_explore_in_a_kernel_stops_the_cell_when_the_first_draw_fails():
    from kernel_helpers import Kernel, errors, widget_views
    with Kernel() as k:
        msgs = k.execute("from course_lib import widgets\n"
                         "def broken(level=1.0):\n    raise ValueError('no data for this level')\n"
                         "widgets.explore(broken, level=(0.0, 3.0, 0.5, 1.0))\n"
                         "print('after')")
    found = errors(msgs)
    assert any("no data for this level" in e for e in found), found        # shown inside the widget
    assert any(e.startswith("RuntimeError") and "broken(level=1.0)" in e for e in found), found
    assert not any(m["msg_type"] == "stream" and "after" in m["content"]["text"] for m in msgs)
    assert widget_views(msgs) == []
