"""Instant self-checks for learners who work without nbgrader (e.g. in Colab).

Each check prints one line, "✅ what" or "❌ what: what went wrong. Hint: ...", and returns True/False.
A wrong answer never raises, so a learner sees every check of a cell at once.

    check_shape(logits, (32, 27), "logits shape", hint="one row of scores per example")
    check_function(softmax, [(([0.0, 0.0],), [0.5, 0.5])], "softmax of equal scores")

Two helpers for the assignments' test cells, which must fail with their own hint (an AssertionError),
never with a raw PyTorch error, and must recognise an answer that only calls the library's version:

    out = call(gradient_penalty, critic, real, fake, eps, hint="reshape eps to (B, 1, ..., 1)")
    raises(ValueError, interpolate, z_a, z_b, steps=1, hint="steps < 2 must raise ValueError")
    written_here(gaussian_kl)

One helper does raise: `assert_close`, for a lecture notebook's claim that its from-scratch version and
the library agree. Such a claim must stop the notebook (and fail the notebook tests) when it is false:

    assert_close(ours, library_output, "our attention equals course_lib's", atol=1e-6)
"""
from __future__ import annotations

import torch

NOT_IMPLEMENTED = "not implemented yet"


def _report(ok: bool, what: str, problem: str = "", hint: str | None = None) -> bool:
    if ok:
        print(f"✅ {what}")
    else:
        print(f"❌ {what}: {problem}." + (f" Hint: {hint}" if hint else ""))
    return ok


def _short(x, limit: int = 60) -> str:
    """A readable, short description of a value for a message."""
    if isinstance(x, torch.Tensor) and x.numel() > 8:
        return f"tensor of shape {tuple(x.shape)}"
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error(exc: Exception) -> str:
    if isinstance(exc, NotImplementedError):
        return NOT_IMPLEMENTED
    return f"raised {type(exc).__name__}: {exc}"


def check(condition, what: str, hint: str | None = None) -> bool:
    """Pass when `condition` is true. A callable condition is called, so its errors are reported too."""
    try:
        value = condition() if callable(condition) else condition
        ok = bool(value)
    except Exception as exc:  # e.g. a student's stub raising NotImplementedError
        return _report(False, what, _error(exc), hint)
    return _report(ok, what, "the condition is False", hint)


def _close_problem(actual, expected, atol: float, rtol: float) -> str:
    """Empty string when actual ~= expected, otherwise what differs."""
    if actual is None:
        return "got None (did the function forget to return its result?)"
    try:
        a = torch.as_tensor(actual, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
    except Exception:
        return f"expected numbers, got {type(actual).__name__} {_short(actual)}"
    if a.shape != e.shape:
        return f"got shape {tuple(a.shape)}, expected {tuple(e.shape)}"
    if torch.isnan(a).any() and not torch.isnan(e).any():
        return "the result contains NaN"
    if torch.allclose(a, e, atol=atol, rtol=rtol, equal_nan=True):
        return ""
    if a.numel() == 1:
        return f"got {a.item():.6g}, expected {e.item():.6g}"
    diff = (a - e).abs().nan_to_num(float("inf"))
    where = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    return f"largest difference {diff.max().item():.3g} at index {where}: got {a[where].item():.6g}, " \
           f"expected {e[where].item():.6g}"


def check_close(actual, expected, what: str, atol: float = 1e-6, rtol: float = 1e-5,
                hint: str | None = None) -> bool:
    """Pass when numbers/arrays/tensors match within |actual - expected| <= atol + rtol * |expected|."""
    problem = _close_problem(actual, expected, atol, rtol)
    return _report(not problem, what, problem, hint)


def assert_close(actual, expected, what: str, atol: float = 1e-6, rtol: float = 1e-5,
                 hint: str | None = None) -> None:
    """Like check_close, but a mismatch raises AssertionError (with the same message) instead of returning
    False. Prints "✅ what" when |actual - expected| <= atol + rtol * |expected| everywhere."""
    problem = _close_problem(actual, expected, atol, rtol)
    if problem:
        raise AssertionError(f"❌ {what}: {problem}." + (f" Hint: {hint}" if hint else ""))
    _report(True, what)


def check_shape(tensor, shape, what: str, hint: str | None = None) -> bool:
    """Pass when tensor.shape equals `shape`; None in `shape` matches any size, e.g. (None, 27)."""
    got = getattr(tensor, "shape", None)
    if got is None:
        return _report(False, what, f"expected a tensor of shape {tuple(shape)}, got {_short(tensor)}", hint)
    got, shape = tuple(got), tuple(shape)
    ok = len(got) == len(shape) and all(s is None or s == g for g, s in zip(got, shape))
    want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
    return _report(ok, what, f"got shape {got}, expected {want}", hint)


def _is_numeric(x) -> bool:
    if x is None or isinstance(x, (bool, str)):
        return False
    try:
        torch.as_tensor(x, dtype=torch.float64)
        return True
    except Exception:
        return False


def _same(actual, expected) -> str:
    """Numbers, lists of numbers and tensors compare with a tolerance; anything else (str, bool, list of
    str, ...) must be equal."""
    if _is_numeric(expected):
        return _close_problem(actual, expected, atol=1e-6, rtol=1e-5)
    return "" if actual == expected else f"returned {_short(actual)}, expected {_short(expected)}"


def check_function(fn, cases, what: str, hint: str | None = None) -> bool:
    """Call `fn` on each case and compare. cases: [(args, expected), ...] where args is a tuple of
    positional arguments, a dict of keyword arguments, or a single argument."""
    if not cases:
        raise ValueError(f"check_function({what!r}) needs at least one (args, expected) case")
    for i, (args, expected) in enumerate(cases, start=1):
        try:
            if isinstance(args, tuple):
                actual = fn(*args)
            elif isinstance(args, dict):
                actual = fn(**args)
            else:
                actual = fn(args)
        except Exception as exc:
            problem = _error(exc)
            if problem != NOT_IMPLEMENTED:
                problem += f" (case {i}, input {_short(args)})"
            return _report(False, what, problem, hint)
        try:
            problem = _same(actual, expected)
        except Exception as exc:
            problem = f"could not compare the result {_short(actual)}: {exc}"
        if problem:
            return _report(False, what, f"case {i}, input {_short(args)}: {problem}", hint)
    return _report(True, f"{what} ({len(cases)} cases)" if len(cases) > 1 else what)


# ------------------------------------------------------------------------------------- for test cells
ALLOWED_LIBRARY = ("course_lib.config", "course_lib.data", "course_lib.checks", "course_lib.viz")


def call(fn, *args, hint: str, **kwargs):
    """fn(*args, **kwargs), with any error (but NotImplementedError, a stub's) turned into an
    AssertionError that names the call and gives the hint."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:
        name = getattr(fn, "__name__", "the function")
        raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}. Hint: {hint}") from None


def raises(error: type, fn, *args, hint: str, **kwargs) -> None:
    """Pass when fn(*args, **kwargs) raises `error`; otherwise raise AssertionError with the hint."""
    name = getattr(fn, "__name__", "the function")
    try:
        fn(*args, **kwargs)
    except error:
        return
    except NotImplementedError:
        raise
    except Exception as exc:
        raise AssertionError(f"{name} raised {type(exc).__name__}, expected {error.__name__}. Hint: {hint}") from None
    raise AssertionError(f"{name} returned without raising {error.__name__}. Hint: {hint}")


def _from_library(obj) -> str | None:
    """The course_lib module `obj` comes from (a module, function or class), None if it is not one of
    the library's answers (config, data, checks and viz are tools, not answers)."""
    module = getattr(obj, "__name__", "") if type(obj).__name__ == "module" else getattr(obj, "__module__", None)
    if isinstance(module, str) and module.startswith("course_lib") and not module.startswith(ALLOWED_LIBRARY):
        return module
    return None


def _code_names(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


def written_here(fn, name: str | None = None, forbid: tuple[str, ...] = (), allow: tuple[str, ...] = ()) -> None:
    """Raise AssertionError when `fn` is course_lib's own function or calls one (directly, through a
    module, or through a name imported from the library): the assignment asks for your implementation.
    `forbid`: names of other ready-made functions the task rules out (e.g. "scaled_dot_product_attention").
    `allow`: global names the task asks the function to use (the student's earlier answers), not checked here:
    a library answer to an earlier part costs that part only."""
    name = name or getattr(fn, "__name__", "the function")
    why = "the assignment asks for your own implementation; course_lib's version is there to compare with later"
    module = _from_library(fn)
    if module:
        raise AssertionError(f"{name} is course_lib's function from {module}: {why}")
    code = getattr(fn, "__code__", None)
    if code is None:
        raise AssertionError(f"{name} must be a function written with def in this notebook")
    found = _library_use(fn, allow, set())
    if found:
        raise AssertionError(f"{name} {found}: {why}")
    for n in _code_names(code):
        if n in forbid:
            raise AssertionError(f"{name} uses {n}: the task asks you to write it yourself")


def _library_use(fn, allow: tuple[str, ...], seen: set) -> str | None:
    """How `fn` reaches course_lib ("calls course_lib (module)", "imports course_lib ..."), following the
    notebook's own helper functions it calls; None when it does not."""
    if id(fn) in seen:
        return None
    seen.add(id(fn))
    code = fn.__code__
    if any(n.startswith("course_lib") for n in _code_names(code)):
        return "imports course_lib inside the function"
    used = [fn.__globals__.get(n) for n in _code_names(code) if n not in allow]
    used += [c.cell_contents for n, c in zip(code.co_freevars, fn.__closure__ or ())
             if n not in allow and _has_contents(c)]
    for obj in used:
        module = _from_library(obj)
        if module:
            return f"calls course_lib ({module})"
    for obj in used:  # a helper written in the notebook that calls the library
        if callable(obj) and hasattr(obj, "__code__") and getattr(obj, "__module__", None) == fn.__module__:
            found = _library_use(obj, allow, seen)
            if found:
                return found
    return None


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False
