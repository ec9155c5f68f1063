"""One small training loop shared by every model family.

Notebook 02 builds this loop by hand (batch -> loss -> backward -> step); from then on the course
imports `fit` so each notebook can spend its lines on the model instead of the bookkeeping.

Pick budgets with `config.budget(full, fast)` so COURSE_FAST=1 shrinks every run at once:

    steps = config.budget(3000, 200)
    history = fit(model, loss_fn, batches, steps=steps, seconds=config.budget(120, 20))
    history.plot()

Per-step work that is not the loss (a learning-rate schedule, an average of the weights) goes in
`on_step`, run after every update, so the loss function only computes the loss:

    schedule = CosineSchedule(optimizer, lr, steps=steps)
    ema = EMA(model, decay=0.995)
    fit(model, loss_fn, batches, optimizer=optimizer, steps=steps, on_step=[schedule, ema])
    ema.copy_to(model)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from course_lib import config


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite. `.history` keeps everything recorded before it happened."""

    def __init__(self, message: str, history: "History"):
        super().__init__(message)
        self.history = history


@dataclass(repr=False)
class History:
    """What happened during `fit`: one entry per step, plus the evaluations."""

    steps: list[int] = field(default_factory=list)                 # 1, 2, 3, ...
    logs: dict[str, list[float]] = field(default_factory=dict)     # name -> one value per step
    evals: list[dict] = field(default_factory=list)                # [{"step": 100, "val_loss": 2.1}, ...]
    seconds: float = 0.0                                           # wall time of the whole run
    stopped_by: str = "steps"                                      # "steps" or "seconds"

    @property
    def loss(self) -> list[float]:
        """The training loss per step ([] for a step_fn that reports no "loss", e.g. a GAN)."""
        return self.logs.get("loss", [])

    def plot(self, ax=None, logy: bool = False):
        """Draw the curves (every logged value and every eval) and return the matplotlib Axes."""
        from course_lib import viz  # matplotlib loads only when a plot is asked for
        return viz.loss_curves(self, ax=ax, logy=logy)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.logs.items() if v)
        return (f"History({len(self.steps)} steps, {last or 'nothing logged'}, "
                f"{self.seconds:.1f} s, stopped_by={self.stopped_by!r})")


def _batch_stream(batches):
    """Yield batches forever from a callable () -> batch or a re-iterable such as a DataLoader."""
    if callable(batches):
        while True:
            yield batches()
    try:
        iter(batches)
    except TypeError:
        raise TypeError("batches must be a callable () -> batch or a re-iterable such as a DataLoader, "
                        f"got {type(batches).__name__}") from None
    while True:
        empty = True
        for batch in batches:  # a new pass over the data each time the previous one ends
            empty = False
            yield batch
        if empty:
            raise ValueError("batches produced no batch: pass a non-empty DataLoader/list, or a callable "
                             "() -> batch (a one-shot generator is used up after its first pass)")


def _as_float(v) -> float:
    """A float from a number or a one-element tensor (detached, so no autograd warning)."""
    return float(v.detach()) if isinstance(v, torch.Tensor) else float(v)


def _evaluate(model, eval_fn, step: int) -> dict:
    """Run eval_fn with dropout etc. switched off and no gradients, then restore the training mode."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        result = eval_fn(model)
    model.train(was_training)
    if not isinstance(result, dict):
        raise TypeError(f"eval_fn must return a dict of floats, got {type(result).__name__}")
    return {"step": step, **{k: _as_float(v) for k, v in result.items()}}


def fit(model, loss_fn, batches, *, optimizer=None, lr=1e-3, steps=1000, seconds=None,
        eval_fn=None, eval_every=None, grad_clip=None, progress=True, desc=None,
        step_fn=None, on_step=()) -> History:
    """Train `model` until `steps` steps or `seconds` seconds have passed, whichever comes first.

    model:     an nn.Module (put into train mode here; fit does not move it or the batches to a device)
    loss_fn:   loss_fn(model, batch) -> scalar tensor; fit does zero_grad, backward, clip, optimizer step
    batches:   a callable () -> batch, or a re-iterable such as a DataLoader (restarted when it runs out)
    optimizer: default AdamW(model.parameters(), lr)
    steps, seconds: the budget; either may be None (not both). Use config.budget(full, fast) for both.
    eval_fn:   eval_fn(model) -> dict of floats, run every `eval_every` steps and at the end,
               under model.eval() and torch.no_grad(); results go to history.evals with their "step"
    step_fn:   for families that run their own optimizers (GANs): pass loss_fn=None and
               step_fn(batch) -> dict of floats (e.g. {"d_loss": .., "g_loss": ..}); fit only loops,
               logs, times and evaluates. optimizer, lr and grad_clip are then unused.
    on_step:   callables hook(model, step) run in order after every update (after the optimizer step, or
               after step_fn), e.g. [CosineSchedule(...), EMA(model)]: side effects stay out of loss_fn.
    A NaN or infinite loss (or step_fn value) stops training with NonFiniteLossError naming the step;
    with loss_fn this happens before the bad update, so the model keeps its last good weights.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if (loss_fn is None) == (step_fn is None):
        raise ValueError("pass exactly one of loss_fn(model, batch) -> loss or step_fn(batch) -> dict "
                         "(step_fn is for models with their own optimizers, e.g. GANs)")
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps, seconds or both (e.g. steps=config.budget(2000, 100))")
    if steps is not None and (not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive int or None, got {steps!r}")
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be a positive number or None, got {seconds!r}")
    if eval_every is not None and (not isinstance(eval_every, int) or eval_every < 1):
        raise ValueError(f"eval_every must be a positive int or None, got {eval_every!r}")
    if eval_every is not None and eval_fn is None:
        raise ValueError("eval_every was given but eval_fn is None")
    on_step = [on_step] if callable(on_step) else list(on_step)
    for hook in on_step:
        if not callable(hook):
            raise TypeError(f"on_step must hold callables hook(model, step), got {type(hook).__name__}")

    if step_fn is None and optimizer is None:
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("model has no trainable parameters to optimise")
        optimizer = torch.optim.AdamW(params, lr=lr)

    history = History()
    model.train()
    data = _batch_stream(batches)
    bar = config.progress(total=steps, desc=desc or "training", disable=not progress, unit="step")
    start = time.perf_counter()
    step = 0
    try:
        while steps is None or step < steps:
            step += 1
            batch = next(data)
            if step_fn is not None:
                values = step_fn(batch)
                if not isinstance(values, dict):
                    raise TypeError(f"step_fn must return a dict of floats, got {type(values).__name__}")
                values = {k: _as_float(v) for k, v in values.items()}
            else:
                loss = loss_fn(model, batch)
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    raise TypeError("loss_fn must return a scalar tensor, got "
                                    f"{type(loss).__name__}{tuple(getattr(loss, 'shape', ()))}")
                values = {"loss": loss.item()}
            bad = {k: v for k, v in values.items() if not math.isfinite(v)}
            if bad:
                raise NonFiniteLossError(
                    f"{', '.join(f'{k} = {v}' for k, v in bad.items())} at step {step}: training stopped. "
                    "Try a smaller lr, grad_clip=1.0, or check the batch for NaNs.", history)
            if step_fn is None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                optimizer.step()
            for hook in on_step:
                hook(model, step)

            history.steps.append(step)
            for k, v in values.items():
                history.logs.setdefault(k, []).append(v)
            if eval_every is not None and step % eval_every == 0:
                history.evals.append(_evaluate(model, eval_fn, step))
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
            if seconds is not None and time.perf_counter() - start >= seconds:
                history.stopped_by = "seconds"
                break
        if eval_fn is not None and (not history.evals or history.evals[-1]["step"] != step):
            history.evals.append(_evaluate(model, eval_fn, step))  # always end with a fresh evaluation
    finally:
        bar.close()
        history.seconds = time.perf_counter() - start
    return history


class CosineSchedule:
    """Learning rate over a training budget: linear warm-up, then a cosine from `lr` down to `floor * lr`.

    The budget is the one fit gets (steps, seconds, or both: whichever ends first), so a run cut short by
    the clock still ends on small steps, which settle the weights (worth about a nat of NLL on digits).
    As in torch.optim.lr_scheduler, creating it sets the rate of the first step and `step()`, called after
    each update, sets the next one, on every parameter group of every optimizer. The clock starts at the
    first `step()`. Pass it to fit, which calls it after every update:

        sched = CosineSchedule(opt, lr=1e-3, steps=steps, seconds=seconds)
        fit(model, loss_fn, batches, optimizer=opt, steps=steps, seconds=seconds, on_step=[sched])
    """

    def __init__(self, optimizers, lr, *, steps: int | None = None, seconds: float | None = None,
                 warmup: int = 0, floor: float = 0.05):
        if steps is None and seconds is None:
            raise ValueError("CosineSchedule needs the training budget: steps, seconds or both")
        self.optimizers = list(optimizers) if isinstance(optimizers, (list, tuple)) else [optimizers]
        lrs = list(lr) if isinstance(lr, (list, tuple)) else [lr] * len(self.optimizers)
        if len(lrs) != len(self.optimizers):
            raise ValueError(f"one lr per optimizer: got {len(lrs)} rates for {len(self.optimizers)} optimizers")
        self.base_lrs = [float(x) for x in lrs]
        self.steps, self.seconds, self.warmup, self.floor = steps, seconds, warmup, floor
        self.calls, self.start = 1, None                     # calls: the step whose rate is set (1 = the first)
        self.scale = self._apply()

    def progress(self) -> float:
        """Fraction of the budget used, in [0, 1]."""
        by_steps = self.calls / self.steps if self.steps else 0.0
        by_clock = (time.perf_counter() - self.start) / self.seconds if self.seconds and self.start else 0.0
        return min(1.0, max(by_steps, by_clock))

    def step(self) -> float:
        """After a training step: set the learning rates of the next one; returns their scale (base = 1)."""
        self.start = self.start or time.perf_counter()
        self.calls += 1
        self.scale = self._apply()
        return self.scale

    def __call__(self, model=None, step=None) -> None:
        """fit's on_step hook: the same as step()."""
        self.step()

    def _apply(self) -> float:
        warm = min(1.0, self.calls / self.warmup) if self.warmup else 1.0
        scale = warm * (self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * self.progress())))
        for opt, base in zip(self.optimizers, self.base_lrs):
            for group in opt.param_groups:
                group["lr"] = base * scale
        return scale


class EMA:
    """An exponential moving average of a model's weights, w_ema <- decay * w_ema + (1 - decay) * w.

    A sampler that calls the same network many times (diffusion) or a generator judged on its samples
    (GAN) shows the noise of the last few updates; averaging over the last ~1 / (1 - decay) steps smooths
    it. Floating-point buffers (BatchNorm's running statistics) are averaged too, integer ones copied.
    Call update() after each step (or pass it to fit's on_step, which does) and copy_to(model) at the end.
    """

    def __init__(self, model: torch.nn.Module, decay: float = 0.999):
        if not 0 <= decay < 1:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.decay, self.updates, self.model = decay, 0, model
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def __call__(self, model=None, step=None) -> None:
        """fit's on_step hook: average the module this EMA was made for (not necessarily fit's model)."""
        self.update(self.model)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))    # short warm-up: early weights fade fast
        for k, v in model.state_dict().items():
            s = self.shadow[k]
            s.lerp_(v, 1 - d) if s.is_floating_point() else s.copy_(v)

    @torch.no_grad()
    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.shadow)


# ---------------------------------------------------------------------- batches for fit

def random_rows(*tensors, batch_size: int, generator: torch.Generator | None = None):
    """A callable () -> a random batch (drawn with replacement) of the same rows of every tensor: X[idx]
    for one tensor, a tuple (X[idx], Y[idx], ...) for several; a None tensor (no labels) stays None."""
    n = len(tensors[0])
    if any(t is not None and len(t) != n for t in tensors):
        rows = [None if t is None else len(t) for t in tensors]
        raise ValueError(f"every tensor needs the same number of rows, got {rows}")

    def batch():
        idx = torch.randint(0, n, (batch_size,), generator=generator)                          # (B,)
        rows = tuple(None if t is None else t[idx] for t in tensors)
        return rows[0] if len(rows) == 1 else rows
    return batch


def adamw(model: torch.nn.Module, lr: float, weight_decay: float, betas=(0.9, 0.999)) -> torch.optim.AdamW:
    """AdamW that decays only the matrices (weights, embeddings), as nanoGPT does: biases and LayerNorm
    parameters are 1-D, and pulling a LayerNorm gain towards 0 only shrinks its output.
    (GPT.configure_optimizer does the same inside the model, which may not import this module.)"""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


def random_windows(ids: torch.Tensor, block_size: int, batch_size: int, generator=None):
    """A callable () -> (x, y): random windows of a 1-D id tensor, y = x shifted by one token (language models)."""
    if ids.dim() != 1 or len(ids) <= block_size:
        raise ValueError(f"ids must be a 1-D tensor longer than block_size {block_size}, got {tuple(ids.shape)}")

    def batch():
        start = torch.randint(0, len(ids) - block_size, (batch_size,), generator=generator)   # (B,)
        offsets = start[:, None] + torch.arange(block_size + 1)                                # (B, T+1)
        chunk = ids[offsets]
        return chunk[:, :-1], chunk[:, 1:]                                                     # (B, T) x 2
    return batch
