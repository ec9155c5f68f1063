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
    monkeypatch.setitem(sys.modules, "IPython.display",
                        types.SimpleNamespace(display=lambda w: shown.append(w)))
    draw, calls = recorder()
    widgets.explore(draw, temperature=(0.1, 2.0, 0.1, 1.0), n=(1, 64, 1, 16), dataset=["a", "b"], flag=False)
    (box,) = shown
    kinds = {c.description: type(c) for c in box.children if hasattr(c, "description")}
    assert kinds == {"temperature": W.FloatSlider, "n": W.IntSlider, "dataset": W.Dropdown, "flag": W.Checkbox}
    assert calls == [{"temperature": 1.0, "n": 16, "dataset": "a", "flag": False}]  # drawn once at start
    slider = next(c for c in box.children if getattr(c, "description", "") == "n")
    slider.value = 32                                   # moving a slider redraws with the new value
    assert calls[-1]["n"] == 32


@pytest.mark.parametrize("spec, message", [
    ((0, 1, 0.1), "must be \\(min, max, step, default\\)"),
    ((0, 1, 0.1, 5), "min <= default <= max"),
    ((0, 1, 0, 0.5), "step > 0"),
    ([], "non-empty list"),
    ("fast", "must be"),
])
def test_bad_controls_are_rejected_before_anything_runs(spec, message):
    draw, calls = recorder()
    with pytest.raises((TypeError, ValueError), match=message):
        widgets.explore(draw, x=spec)
    assert calls == []


def test_fn_must_be_callable():
    with pytest.raises(TypeError, match="fn must be a function"):
        widgets.explore("plot", x=(0, 1, 1, 0))
