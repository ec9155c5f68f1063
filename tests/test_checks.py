import numpy as np
import pytest
import torch

from course_lib.checks import assert_close, check, check_close, check_function, check_shape


def last_line(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out  # exactly one line per check
    return out[0]


def test_check_passes_and_fails_with_hint(capsys):
    assert check(2 + 2 == 4, "arithmetic") is True
    assert last_line(capsys) == "✅ arithmetic"
    assert check(torch.tensor(False), "probabilities sum to 1", hint="divide by the row sum") is False
    assert last_line(capsys) == "❌ probabilities sum to 1: the condition is False. Hint: divide by the row sum"


def test_check_with_a_callable_reports_not_implemented(capsys):
    def stub():
        raise NotImplementedError

    assert check(stub, "counts") is False
    assert last_line(capsys) == "❌ counts: not implemented yet."
    assert check(lambda: 1 / 0, "division", hint="h") is False
    assert last_line(capsys) == "❌ division: raised ZeroDivisionError: division by zero. Hint: h"


def test_check_close_numbers_lists_arrays_tensors(capsys):
    assert check_close(0.1 + 0.2, 0.3, "float sum")
    assert check_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]), "list vs array")
    assert check_close(torch.tensor([[1.0, 2.0]]), [[1.0, 2.0]], "tensor vs list")
    capsys.readouterr()
    assert check_close(2.5, 2.0, "mean", hint="average, not sum") is False
    assert last_line(capsys) == "❌ mean: got 2.5, expected 2. Hint: average, not sum"


def test_check_close_explains_the_difference(capsys):
    actual = torch.zeros(2, 3)
    actual[1, 2] = 0.5
    assert check_close(actual, torch.zeros(2, 3), "probs") is False
    line = last_line(capsys)
    assert "largest difference 0.5 at index (1, 2)" in line and "got 0.5, expected 0" in line
    assert check_close(torch.zeros(3), torch.zeros(4), "probs") is False
    assert "got shape (3,), expected (4,)" in last_line(capsys)
    assert check_close(torch.tensor([float("nan"), 1.0]), [0.0, 1.0], "nll") is False
    assert "contains NaN" in last_line(capsys)
    assert check_close(None, 1.0, "nll") is False
    assert "got None" in last_line(capsys)
    assert check_close("abc", 1.0, "nll") is False
    assert "expected numbers, got str" in last_line(capsys)


def test_check_close_tolerances():
    assert check_close(1.001, 1.0, "loose", atol=0.01)
    assert not check_close(1.001, 1.0, "tight")


def test_check_shape(capsys):
    assert check_shape(torch.zeros(32, 27), (32, 27), "logits")
    assert check_shape(torch.zeros(5, 27), (None, 27), "logits, any batch")
    capsys.readouterr()
    assert check_shape(torch.zeros(32, 64), (32, 1, 8, 8), "images", hint="reshape") is False
    assert last_line(capsys) == "❌ images: got shape (32, 64), expected (32, 1, 8, 8). Hint: reshape"
    assert check_shape(torch.zeros(4, 3), (None, 27), "logits") is False
    assert "expected (any, 27)" in last_line(capsys)
    assert check_shape([1, 2, 3], (3,), "list") is False
    assert "expected a tensor of shape (3,), got [1, 2, 3]" in last_line(capsys)


def test_check_function_passes_all_cases(capsys):
    cases = [((2, 3), 5), ((0.1, 0.2), 0.3), ({"a": 1, "b": 1}, 2)]
    assert check_function(lambda a, b: a + b, cases, "add") is True
    assert last_line(capsys) == "✅ add (3 cases)"
    assert check_function(str.upper, [("ab", "AB")], "upper") is True           # single argument, exact str
    assert check_function(lambda x: torch.softmax(x, 0), [((torch.zeros(2),), [0.5, 0.5])], "softmax")


def test_check_function_reports_the_failing_case(capsys):
    def buggy_square(x):
        return x * 2

    assert check_function(buggy_square, [((2,), 4), ((3,), 9)], "square", hint="x * x") is False
    line = last_line(capsys)
    assert line.startswith("❌ square: case 2, input (3,): got 6, expected 9") and line.endswith("Hint: x * x")
    assert check_function(lambda w: w.title(), [("ann", "ANN")], "names") is False
    assert "returned 'Ann', expected 'ANN'" in last_line(capsys)


def test_check_function_not_implemented_and_other_errors(capsys):
    def stub(x):
        raise NotImplementedError("replace with your code")

    assert check_function(stub, [((1,), 1)], "bigram counts", hint="use torch.zeros") is False
    assert last_line(capsys) == "❌ bigram counts: not implemented yet. Hint: use torch.zeros"
    assert check_function(lambda x: x["missing"], [(({},), 1)], "lookup") is False
    assert "raised KeyError: 'missing' (case 1" in last_line(capsys)


def test_check_function_needs_cases():
    with pytest.raises(ValueError, match="at least one"):
        check_function(abs, [], "abs")


# ------------------------------------------------------------------------------ helpers for test cells
def test_call_turns_errors_into_the_hint_but_lets_stubs_raise():
    from course_lib.checks import call

    assert call(lambda a, b=0: a + b, 1, b=2, hint="unused") == 3

    def broken(x):
        return x @ torch.ones(3)

    with pytest.raises(AssertionError, match=r"broken raised RuntimeError: .*\. Hint: reshape first"):
        call(broken, torch.ones(2, 2), hint="reshape first")

    def stub():
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        call(stub, hint="unused")


def test_written_here_rejects_the_library_answer():
    from course_lib.checks import written_here
    from course_lib.models import vae
    from course_lib.models.vae import gaussian_kl as library_kl

    def own(mu, logvar):
        return 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)

    written_here(own)  # passes: uses torch only
    with pytest.raises(AssertionError, match="gaussian_kl is course_lib's function from course_lib.models.vae"):
        written_here(library_kl)

    def via_module(mu, logvar):
        return vae.gaussian_kl(mu, logvar)

    def via_name(mu, logvar):
        return library_kl(mu, logvar)

    def imports_inside(mu, logvar):
        from course_lib.models.vae import gaussian_kl
        return gaussian_kl(mu, logvar)

    def via_helper(mu, logvar):  # a helper of its own that calls the library
        return via_name(mu, logvar)

    for fn in (via_module, via_name):
        with pytest.raises(AssertionError, match=rf"{fn.__name__} calls course_lib \(course_lib.models.vae\)"):
            written_here(fn)
    with pytest.raises(AssertionError, match="imports course_lib inside the function"):
        written_here(imports_inside)
    with pytest.raises(AssertionError, match=r"via_helper calls course_lib \(course_lib.models.vae\)"):
        written_here(via_helper)
    with pytest.raises(AssertionError, match="must be a function written with def"):
        written_here(torch.exp, "exp")

    from course_lib import config

    def uses_tools(x):
        return config.budget(1, 1) * x

    written_here(uses_tools)  # config, data, checks and viz are tools, not answers


def test_raises_and_forbidden_names():
    from course_lib.checks import raises, written_here

    def strict(x):
        if x < 0:
            raise ValueError("negative")
        return x

    raises(ValueError, strict, -1, hint="unused")
    with pytest.raises(AssertionError, match="strict returned without raising ValueError. Hint: check x"):
        raises(ValueError, strict, 1, hint="check x")
    with pytest.raises(AssertionError, match="raised TypeError, expected ValueError. Hint: h"):
        raises(ValueError, strict, None, hint="h")

    def attention(q, k, v):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    with pytest.raises(AssertionError, match="attention uses scaled_dot_product_attention"):
        written_here(attention, forbid=("scaled_dot_product_attention",))

    from course_lib.models.vae import gaussian_kl

    def elbo(mu, logvar):  # the task says: use your gaussian_kl (here the library's: that costs part (b) only)
        return gaussian_kl(mu, logvar)

    written_here(elbo, allow=("gaussian_kl",))
    with pytest.raises(AssertionError, match="elbo calls course_lib"):
        written_here(elbo)


def test_assert_close_prints_on_success_and_raises_with_the_difference(capsys):
    assert_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-8], "scratch equals library")
    assert last_line(capsys) == "✅ scratch equals library"
    with pytest.raises(AssertionError) as err:
        assert_close(torch.tensor([1.0, 2.5, 3.0]), [1.0, 2.0, 3.0], "scratch equals library", hint="check the mask")
    assert str(err.value) == ("❌ scratch equals library: largest difference 0.5 at index (1,): got 2.5, expected 2. "
                              "Hint: check the mask")
    assert capsys.readouterr().out == ""                   # nothing printed on failure: the error says it all
    with pytest.raises(AssertionError, match=r"got shape \(2,\), expected \(3,\)"):
        assert_close([1.0, 2.0], [1.0, 2.0, 3.0], "shapes")
    with pytest.raises(AssertionError, match="got 1, expected 1.1"):
        assert_close(1.0, 1.1, "tolerance", atol=0.05, rtol=0.0)
