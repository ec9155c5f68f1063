"""Interactive explorers that still work without a browser.

The pattern: write a plain function that draws a figure from a few values, e.g.
`show_samples(temperature=1.0, n=16)`. `explore(show_samples, temperature=(0.1, 2.0, 0.1, 1.0))` gives
sliders in JupyterLab or Colab; headless (tests, nbclient, COURSE_HEADLESS=1) it calls the function once
with the defaults so the notebook still shows a static figure. Tests call the plain function directly.
"""
from __future__ import annotations

import importlib.util
import os
from numbers import Real


def has_frontend() -> bool:
    """True inside a Jupyter/Colab kernel that can show widgets; False in scripts, tests, headless runs."""
    if os.environ.get("COURSE_HEADLESS", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False  # set by tests and headless notebook runs: the kernel cannot know nobody is watching
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # Only a kernel (ZMQ shell: JupyterLab, Colab, VS Code) has a front end; terminal IPython has none.
    return (shell is not None and hasattr(shell, "kernel")
            and importlib.util.find_spec("ipywidgets") is not None)


def _default(name: str, spec):
    """The starting value of one control (and a check that the spec is one explore understands)."""
    if isinstance(spec, bool):
        return spec                                        # checkbox
    if isinstance(spec, tuple) and len(spec) == 4 and all(isinstance(v, Real) for v in spec):
        lo, hi, step, default = spec                       # slider
        if not (lo <= default <= hi) or step <= 0:
            raise ValueError(f"control {name!r}: need min <= default <= max and step > 0, got {spec}")
        return default
    if isinstance(spec, list) and spec:
        return spec[0]                                     # dropdown, first option selected
    if isinstance(spec, str):
        return spec                                        # text box (a prompt), this text to start with
    raise TypeError(f"control {name!r} must be (min, max, step, default), a non-empty list of options, "
                    f"a bool or a str, got {spec!r}")


_STYLE = {"description_width": "initial"}  # show a long name ("temperature") in full


def _widget(name: str, spec):
    import ipywidgets as W
    if isinstance(spec, bool):
        return W.Checkbox(value=spec, description=name, style=_STYLE)
    if isinstance(spec, list):
        return W.Dropdown(options=spec, value=spec[0], description=name, style=_STYLE)
    if isinstance(spec, str):   # continuous_update=False: redraw on Enter or leaving the box, not per keystroke
        return W.Text(value=spec, description=name, continuous_update=False, style=_STYLE,
                      layout=W.Layout(width="60%"))
    lo, hi, step, default = spec
    slider = W.IntSlider if all(isinstance(v, int) for v in spec) else W.FloatSlider
    # continuous_update=False: redraw when the slider is released, not on every pixel of the drag.
    return slider(min=lo, max=hi, step=step, value=default, description=name, continuous_update=False,
                  style=_STYLE)


def _show_figures(result) -> None:
    """Display what `fn` drew (inside the explorer's Output) and close it, so nothing is drawn twice.

    `fn` may call plt.show() (the inline backend then displays and closes its figures), leave figures
    open, or return one; open pyplot figures are displayed here and closed, and a returned Figure that
    pyplot never managed (matplotlib.figure.Figure(...)) is displayed too.
    """
    import sys
    from IPython.display import display
    if "matplotlib.pyplot" not in sys.modules:
        return                                             # fn drew nothing with pyplot
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    for num in plt.get_fignums():
        fig = plt.figure(num)
        display(fig)
        plt.close(fig)
    if isinstance(result, Figure) and not hasattr(result, "number"):   # pyplot gives its figures a number
        display(result)


def _explorer(fn, controls: dict):
    """A VBox of one control per keyword above an Output that shows `fn(**values)` and redraws it when
    a control moves.

    Built from the parts that ipywidgets 7.6+ and 8.x share (VBox, Output, observe) rather than
    `ipywidgets.interactive`, which inspects fn's signature and tries to make a control for every
    argument with a default (`ax=None` fails with "None cannot be transformed to a widget") and shows a
    returned figure twice. Only the named keywords become controls; every other argument of `fn` keeps
    its default.
    """
    import ipywidgets as W
    from IPython.display import clear_output
    boxes = {name: _widget(name, spec) for name, spec in controls.items()}
    out = W.Output()
    failed = []

    def redraw(change=None):
        values = {name: box.value for name, box in boxes.items()}
        with out:                    # an error is shown inside the widget, like any cell output
            clear_output(wait=True)
            try:
                _show_figures(fn(**values))
            except Exception:
                failed.append(values)
                raise

    for box in boxes.values():
        box.observe(redraw, names="value")
    redraw()
    if failed:   # the first draw failed: stop "Run All" here, as the static view would
        shown = ", ".join(f"{k}={v!r}" for k, v in failed[0].items())
        raise RuntimeError(f"{getattr(fn, '__name__', 'fn')}({shown}) failed; its traceback is shown above")
    return W.VBox([*boxes.values(), out])


def explore(fn, **controls) -> None:
    """Show `fn(**values)` with one control per keyword; each control is
    (min, max, step, default) -> slider, [option, ...] -> dropdown (first is default), bool -> checkbox,
    str -> text box (a prompt; redrawn on Enter).

    `fn` draws with matplotlib (plt.subplots, ...) and may return the figure. Only the keywords named here
    get controls: `fn`'s other arguments (say `ax=None`) keep their defaults. Works with ipywidgets 7.6+
    (Colab) and 8.x (JupyterLab 4).
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function that draws a figure, got {type(fn).__name__}")
    defaults = {name: _default(name, spec) for name, spec in controls.items()}
    if has_frontend():
        from IPython.display import display
        display(_explorer(fn, controls))
        return
    shown = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    print(f"(static view, no widget front end: {getattr(fn, '__name__', 'fn')}({shown}))")
    fn(**defaults)  # a Jupyter kernel shows the figure at the end of the cell; scripts and tests just run it
