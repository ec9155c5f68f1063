import time

import pytest
import torch
from torch import nn

from course_lib import config
from course_lib.train import EMA, CosineSchedule, History, NonFiniteLossError, fit


def regression_problem(seed=0):
    """y = 3x - 1 plus a little noise; a Linear(1, 1) can fit it almost exactly."""
    g = config.seed_everything(seed)
    x = torch.randn(256, 1, generator=g)
    y = 3 * x - 1 + 0.01 * torch.randn(256, 1, generator=g)

    def batches():
        idx = torch.randint(0, 256, (32,), generator=g)
        return x[idx], y[idx]

    return nn.Linear(1, 1), batches, (x, y)


def mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def test_fit_reduces_the_loss_of_a_tiny_regression():
    model, batches, (x, y) = regression_problem()
    before = mse(model, (x, y)).item()
    h = fit(model, mse, batches, lr=0.05, steps=300, progress=False)
    after = mse(model, (x, y)).item()
    assert after < 0.01 * before and after < 0.01
    assert h.steps == list(range(1, 301)) and len(h.loss) == 300
    assert h.stopped_by == "steps" and h.seconds > 0
    assert sum(h.loss[-20:]) / 20 < sum(h.loss[:20]) / 20
    assert torch.allclose(model.weight, torch.tensor([[3.0]]), atol=0.05)
    assert "300 steps" in repr(h)


def test_fit_accepts_a_reiterable_dataloader_and_restarts_it():
    model, _, (x, y) = regression_problem()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64)  # 4 batches
    seen = []

    def loss_fn(m, batch):
        seen.append(int(torch.nonzero((x == batch[0][0]).all(1))[0]) // 64)   # which of the 4 batches
        return mse(m, batch)

    h = fit(model, loss_fn, loader, steps=10, progress=False)
    assert len(h.loss) == 10
    assert seen == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]            # through the 4-batch loader 2.5 times, in order


def test_one_shot_generator_that_runs_dry_gives_a_clear_error():
    model, batches, _ = regression_problem()
    gen = (batches() for _ in range(3))
    with pytest.raises(ValueError, match="one-shot generator"):
        fit(model, mse, gen, steps=10, progress=False)


def test_seconds_budget_stops_early():
    model, batches, _ = regression_problem()

    def slow_loss(model, batch):
        time.sleep(0.01)
        return mse(model, batch)

    h = fit(model, slow_loss, batches, steps=100_000, seconds=0.05, progress=False)
    assert h.stopped_by == "seconds"
    assert 1 <= len(h.steps) < 100_000


def test_seconds_only_budget():
    model, batches, _ = regression_problem()
    h = fit(model, mse, batches, steps=None, seconds=0.02, progress=False)
    assert h.stopped_by == "seconds" and len(h.steps) >= 1


def test_eval_fn_runs_every_eval_every_steps_and_at_the_end_in_eval_mode():
    model = nn.Sequential(nn.Linear(1, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    _, batches, _ = regression_problem()
    seen = []

    def eval_fn(m):
        seen.append((m.training, torch.is_grad_enabled()))
        return {"val": torch.tensor(1.5)}

    h = fit(model, mse, batches, steps=25, eval_fn=eval_fn, eval_every=10, progress=False)
    assert [e["step"] for e in h.evals] == [10, 20, 25]
    assert h.evals[0] == {"step": 10, "val": 1.5} and isinstance(h.evals[0]["val"], float)
    assert seen == [(False, False)] * 3   # eval mode, no gradients
    assert model.training                 # back to training mode afterwards


def test_no_duplicate_final_eval_and_eval_only_at_end_without_eval_every():
    model, batches, _ = regression_problem()
    h = fit(model, mse, batches, steps=20, eval_fn=lambda m: {"a": 0.0}, eval_every=10, progress=False)
    assert [e["step"] for e in h.evals] == [10, 20]
    h = fit(model, mse, batches, steps=7, eval_fn=lambda m: {"a": 0.0}, progress=False)
    assert [e["step"] for e in h.evals] == [7]


def test_non_finite_loss_names_the_step_and_keeps_good_weights():
    model, batches, _ = regression_problem()
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        loss = mse(model, batch)
        return loss * float("nan") if calls["n"] == 5 else loss

    with pytest.raises(NonFiniteLossError, match="at step 5") as err:
        fit(model, loss_fn, batches, steps=50, progress=False)
    assert len(err.value.history.loss) == 4
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_step_fn_for_models_with_their_own_optimizers():
    model = nn.ModuleDict({"g": nn.Linear(2, 2), "d": nn.Linear(2, 1)})
    opt_g = torch.optim.SGD(model["g"].parameters(), lr=0.1)
    seen = []

    def step_fn(batch):
        seen.append(batch)
        loss = model["g"](batch).pow(2).mean()
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return {"g_loss": loss, "d_loss": 0.5}

    h = fit(model, None, lambda: torch.ones(4, 2), steps=30, step_fn=step_fn, progress=False)
    assert len(seen) == 30 and set(h.logs) == {"g_loss", "d_loss"}
    assert h.loss == [] and h.logs["d_loss"] == [0.5] * 30
    assert h.logs["g_loss"][-1] < h.logs["g_loss"][0]

    with pytest.raises(NonFiniteLossError, match=r"g_loss = inf at step 1"):
        fit(model, None, lambda: 0, steps=3, step_fn=lambda b: {"g_loss": float("inf")}, progress=False)


def test_grad_clip_limits_the_update():
    torch.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    start = model.weight.detach().clone()
    batch = (torch.tensor([[1000.0]]), torch.tensor([[0.0]]))
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    fit(model, mse, lambda: batch, optimizer=opt, steps=1, grad_clip=0.1, progress=False)
    assert (model.weight - start).abs().item() == pytest.approx(0.1, rel=1e-4)


def test_progress_bar_shows_the_loss(capsys):
    model, batches, _ = regression_problem()
    fit(model, mse, batches, steps=5, progress=True, desc="tiny")
    err = capsys.readouterr().err
    assert "tiny" in err and "loss=" in err and "5/5" in err


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=None, seconds=None), "give a budget"),
    (dict(steps=0), "steps must be a positive int"),
    (dict(seconds=-1), "seconds must be a positive"),
    (dict(eval_every=5), "eval_fn is None"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    model, batches, _ = regression_problem()
    with pytest.raises(ValueError, match=message):
        fit(model, mse, batches, progress=False, **kwargs)


def test_bad_model_loss_and_batches_are_rejected():
    model, batches, _ = regression_problem()
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fit(lambda x: x, mse, batches, steps=1, progress=False)
    with pytest.raises(ValueError, match="exactly one of loss_fn"):
        fit(model, None, batches, steps=1, progress=False)
    with pytest.raises(TypeError, match="scalar tensor"):
        fit(model, lambda m, b: m(b[0]), batches, steps=1, progress=False)
    with pytest.raises(TypeError, match="batches must be a callable"):
        fit(model, mse, 42, steps=1, progress=False)


def test_history_plot_returns_axes_with_train_and_eval_curves():
    model, batches, _ = regression_problem()
    h = fit(model, mse, batches, steps=20, eval_fn=lambda m: {"val_loss": 1.0}, eval_every=5, progress=False)
    ax = h.plot()
    assert len(ax.lines) == 2
    assert list(ax.lines[0].get_xdata()) == list(range(1, 21))
    assert list(ax.lines[1].get_xdata()) == [5, 10, 15, 20]
    empty = History()
    assert empty.loss == [] and empty.steps == [] and empty.evals == []
    assert repr(empty) == "History(0 steps, nothing logged, 0.0 s, stopped_by='steps')"


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    from course_lib.train import CosineSchedule
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = CosineSchedule(opt, 0.1, steps=10, warmup=2, floor=0.05)
    lrs = [opt.param_groups[0]["lr"]]                        # creating it sets the first step's rate
    for _ in range(9):
        sched.step()                                         # after each step: the next step's rate
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] < lrs[1]                                   # warm-up: half the rate at step 1
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:]))     # then never increases
    assert lrs[-1] == pytest.approx(0.1 * 0.05)              # ends on the floor at the end of the budget


def test_cosine_schedule_sets_one_rate_per_optimizer_and_checks_the_count():
    from course_lib.train import CosineSchedule
    opts = [torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0) for _ in range(2)]
    sched = CosineSchedule(opts, [0.2, 0.4], steps=4, floor=0.0)
    sched.step()
    assert opts[1].param_groups[0]["lr"] == pytest.approx(2 * opts[0].param_groups[0]["lr"])
    with pytest.raises(ValueError, match="one lr per optimizer"):
        CosineSchedule(opts, [0.1], steps=4)
    with pytest.raises(ValueError, match="budget"):
        CosineSchedule(opts[0], 0.1)


def test_ema_averages_batchnorm_statistics_and_copies_counters():
    """A generator with BatchNorm samples with its running statistics: they must be averaged like weights."""
    bn = torch.nn.BatchNorm1d(2)
    ema = EMA(bn, decay=0.5)
    bn.running_mean.fill_(4.0)
    bn.num_batches_tracked.fill_(7)
    for _ in range(40):
        ema.update(bn)
    fresh = torch.nn.BatchNorm1d(2)
    ema.copy_to(fresh)
    assert torch.allclose(fresh.running_mean, torch.full((2,), 4.0), atol=1e-4)
    assert fresh.num_batches_tracked.item() == 7
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\)"):
        EMA(bn, decay=1.0)


def test_on_step_hooks_run_after_each_update_in_order():
    model, batches, _ = regression_problem()
    calls = []
    weights = []
    h = fit(model, mse, batches, lr=0.05, steps=4, progress=False,
            on_step=[lambda m, s: calls.append(("a", s)),
                     lambda m, s: (calls.append(("b", s)), weights.append(m.weight.item()))])
    assert calls == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("b", 3), ("a", 4), ("b", 4)]
    assert weights[-1] == model.weight.item() and len(set(weights)) == 4   # each hook saw the updated weights
    assert len(h.loss) == 4
    with pytest.raises(TypeError, match="on_step must hold callables"):
        fit(model, mse, batches, steps=1, progress=False, on_step=[3])


def test_schedule_and_ema_as_hooks_equal_a_hand_written_loop():
    """fit + on_step=[CosineSchedule, EMA] does exactly what a loop that sets the rate and averages by hand does."""
    import math
    steps, lr, warmup, floor, decay = 12, 0.05, 3, 0.1, 0.9

    model, batches, _ = regression_problem(seed=1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ema = EMA(model, decay)
    fit(model, mse, batches, optimizer=opt, steps=steps, progress=False,
        on_step=[CosineSchedule(opt, lr, steps=steps, warmup=warmup, floor=floor), ema])

    ref, batches, _ = regression_problem(seed=1)            # same start, same batches
    ref_opt = torch.optim.SGD(ref.parameters(), lr=lr)
    shadow = {k: v.clone() for k, v in ref.state_dict().items()}
    for k in range(1, steps + 1):
        scale = min(1.0, k / warmup) * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * k / steps)))
        ref_opt.param_groups[0]["lr"] = lr * scale
        loss = mse(ref, batches())
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        d = min(decay, (1 + k) / (10 + k))
        for name, v in ref.state_dict().items():
            shadow[name] = d * shadow[name] + (1 - d) * v.detach()
    for name, v in ref.state_dict().items():
        assert torch.allclose(model.state_dict()[name], v, atol=1e-7), name
        assert torch.allclose(ema.shadow[name], shadow[name], atol=1e-6), name
    assert not torch.allclose(ema.shadow["weight"], model.weight)   # the average lags the weights: a real test


def test_the_package_imports_as_a_dag():
    """No module-level or function-level import cycle anywhere in course_lib (train <-> viz and gradebook <->
    grading were cycles once); relative imports count too. Models never reach the recipes (test_recipes)."""
    import ast
    import pathlib
    import course_lib
    root = pathlib.Path(course_lib.__file__).parent
    graph = {}
    for path in root.rglob("*.py"):
        mod = ".".join(("course_lib",) + path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:                # from .registry import x
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                full = base + ("." + node.module if node.module else "")
                deps |= {f"{full}.{a.name}" for a in node.names} | {full}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_lib"):
                deps |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("course_lib")}
        graph[mod] = deps
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}

    def reaches(src, dst, seen=()):
        return any(d == dst or (d not in seen and reaches(d, dst, seen + (d,))) for d in graph[src])
    assert len(graph) > 40 and graph["course_lib.recipes.vae"] >= {"course_lib.models.vae"}   # the graph is read
    cycles = [mod for mod in graph if reaches(mod, mod)]
    assert not cycles, f"modules that import themselves through others: {cycles}"


def test_adamw_decays_matrices_only():
    from course_lib.train import adamw

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    opt = adamw(model, 1e-3, weight_decay=0.1)
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert [tuple(p.shape) for p in decayed["params"]] == [(4, 3)]
    assert sorted(tuple(p.shape) for p in plain["params"]) == [(4,), (4,), (4,)]
