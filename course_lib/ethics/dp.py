"""Training a GPT on lines of text, plainly or with DP-SGD (Abadi et al. 2016), and the epsilon it buys.

The privacy unit is ONE LINE (the membership unit of `membership` and the canary's unit): each training
example is a line read after a newline. DP-SGD, step by step:
  1. sample a batch by Poisson sampling: each line joins with probability q (the accountant assumes this);
  2. per-example gradients (torch.func: vmap of grad over the batch);
  3. clip each example's gradient to L2 norm <= C (bounds one line's influence);
  4. sum, add Gaussian noise N(0, (sigma C)^2) per coordinate, divide by the EXPECTED batch size q N;
  5. an ordinary optimizer step with that gradient.
The guarantee: (epsilon, delta)-DP per line, from a Renyi-DP accountant written here (Mironov et al. 2019,
integer orders of the subsampled Gaussian, converted with Balle et al. 2020). A canary repeated k times is
k lines: group privacy protects it only at about k * epsilon (and a worse delta), so DP with a
single-digit epsilon does not promise to hide a secret repeated 50 times: measure it.
"""
from __future__ import annotations

import warnings

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

ORDERS = tuple(range(2, 257))


@dataclass
class DPConfig:
    noise_multiplier: float = 1.0    # sigma: noise std in units of the clipping norm
    max_grad_norm: float = 1.0       # C: each line's gradient is clipped to this L2 norm
    sample_rate: float = 0.01        # q: probability that a line joins a batch (Poisson sampling)

    def __post_init__(self):
        for name in ("noise_multiplier", "max_grad_norm"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name} must be a number > 0, got {v!r}")
        if isinstance(self.sample_rate, bool) or not 0 < self.sample_rate <= 1:
            raise ValueError(f"sample_rate must be in (0, 1], got {self.sample_rate!r}")


def _log_binom(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def rdp_subsampled_gaussian(q: float, sigma: float, alpha: int) -> float:
    """Renyi DP of order alpha (an integer >= 2) of ONE step of the Poisson-subsampled Gaussian mechanism:
    (1/(alpha-1)) log sum_k C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2))  (Mironov et al. 2019)."""
    if q == 1.0:
        return alpha / (2 * sigma ** 2)
    terms = [_log_binom(alpha, k) + (alpha - k) * math.log1p(-q) + k * math.log(q) + (k * k - k) / (2 * sigma ** 2)
             for k in range(alpha + 1)]
    m = max(terms)
    return (m + math.log(sum(math.exp(t - m) for t in terms))) / (alpha - 1)


def epsilon(steps: int, *, sample_rate: float, noise_multiplier: float, delta: float) -> float:
    """epsilon of (epsilon, delta)-DP after `steps` steps of DP-SGD: RDP adds over steps; the conversion of
    Balle et al. 2020 (Prop. 12) eps = rdp - (log delta + log alpha)/(alpha-1) + log((alpha-1)/alpha),
    minimised over integer orders 2..256."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    DPConfig(noise_multiplier, 1.0, sample_rate)                         # the same checks
    if steps == 0:
        return 0.0
    best = math.inf
    for a in ORDERS:
        rdp = steps * rdp_subsampled_gaussian(sample_rate, noise_multiplier, a)
        eps = rdp + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
        best = min(best, eps)
    return max(best, 0.0)


def noise_for_epsilon(target_epsilon: float, steps: int, *, sample_rate: float, delta: float) -> float:
    """The smallest noise multiplier (to 1e-3 relative) whose epsilon after `steps` is <= target_epsilon."""
    if isinstance(target_epsilon, bool) or not isinstance(target_epsilon, (int, float)) or not target_epsilon > 0:
        raise ValueError(f"target epsilon must be a number > 0 (epsilon <= 0 would promise that the model "
                         f"ignores its data), got {target_epsilon!r}")
    lo, hi = 0.1, 1.0
    while epsilon(steps, sample_rate=sample_rate, noise_multiplier=hi, delta=delta) > target_epsilon:
        lo, hi = hi, hi * 2
        if hi > 1e4:
            raise ValueError(f"no noise multiplier up to 1e4 reaches epsilon {target_epsilon}")
    while hi - lo > 1e-3 * hi:
        mid = (lo + hi) / 2
        if epsilon(steps, sample_rate=sample_rate, noise_multiplier=mid, delta=delta) > target_epsilon:
            lo = mid
        else:
            hi = mid
    return hi


def encode_lines(lines: list[str], tokenizer, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each line as one example: x = newline + line (truncated to block_size), y = x shifted by one, -1
    where padded. -> x (N, block_size) int64, y (N, block_size) int64."""
    nl = tokenizer.encode("\n")
    x = torch.zeros(len(lines), block_size, dtype=torch.long)
    y = torch.full((len(lines), block_size), -1, dtype=torch.long)
    for i, line in enumerate(lines):
        r = (nl + tokenizer.encode(line))[: block_size + 1]
        x[i, : len(r) - 1] = torch.tensor(r[:-1])
        y[i, : len(r) - 1] = torch.tensor(r[1:])
    return x, y


def _loss(model, x, y):
    logits, _ = model(x, check_ids=False)             # ids come from the tokenizer (and vmap cannot read values)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-1)


def dp_gradients(model, x, y, dp: DPConfig, expected_batch: float, generator=None) -> None:
    """Steps 2-4 above: write the clipped, noised, averaged gradient into each parameter's .grad.
    x, y (B, T); B may be 0 (Poisson sampling can draw an empty batch: the step is noise only)."""
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}

    def one(p, xi, yi):                                  # loss of ONE example: (T,) -> scalar
        return _loss(lambda inp, check_ids: functional_call(model, p, (inp,), {"check_ids": check_ids}),
                     xi[None], yi[None])

    if len(x):
        with warnings.catch_warnings():                  # torch has no batching rule for CPU flash attention yet:
            warnings.filterwarnings("ignore", message="There is a performance drop")   # slower, still exact
            g = vmap(grad(one), in_dims=(None, 0, 0))(params, x, y)            # each (B, *shape)
        norms = torch.sqrt(sum(v.flatten(1).pow(2).sum(1) for v in g.values()))  # (B,)
        scale = (dp.max_grad_norm / (norms + 1e-12)).clamp(max=1.0)            # (B,)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        total = (g[name] * scale.view(-1, *[1] * (p.dim()))).sum(0) if len(x) else torch.zeros_like(p)
        noise = torch.randn(p.shape, generator=generator, device=p.device) * dp.noise_multiplier * dp.max_grad_norm
        p.grad = (total + noise) / expected_batch


def fit_lines(model, x, y, *, steps: int, batch_size: int = 32, lr: float = 2e-3, dp: DPConfig | None = None,
              seed: int = 0) -> list[float]:
    """Train on line examples (x, y from encode_lines) for `steps` steps; returns the loss per step (of the
    sampled batch, before noise). Without dp: uniform batches of batch_size with replacement, AdamW.
    With dp: Poisson batches at dp.sample_rate (batch_size is ignored), DP-SGD gradients, the same AdamW
    (the optimizer only post-processes private gradients: no privacy cost). Dropout must be 0 under DP."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    gen = torch.Generator().manual_seed(seed)
    opt = model.configure_optimizer(lr, weight_decay=0.0 if dp else 0.1)
    model.train()
    n, losses = len(x), []
    for step in range(steps):
        for group in opt.param_groups:                                 # cosine decay to 10%
            group["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        opt.zero_grad(set_to_none=True)
        if dp is None:
            idx = torch.randint(0, n, (batch_size,), generator=gen)
            loss = _loss(model, x[idx], y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        else:
            idx = torch.nonzero(torch.rand(n, generator=gen) < dp.sample_rate).flatten()
            with torch.no_grad():
                loss = _loss(model, x[idx], y[idx]) if len(idx) else torch.tensor(float("nan"))
            dp_gradients(model, x[idx], y[idx], dp, dp.sample_rate * n, gen)
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses
