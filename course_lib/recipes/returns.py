"""A GPT over quantised daily returns: the course's learned market-scenario generator (notebook 12).

Tokens: each asset's daily log-return is cut into n_bins bins at the quantiles of its TRAINING returns
(equal counts per bin), token id = asset * n_bins + bin, and a day is written as one token per asset in a
fixed order (AAPL, IBM, MSFT, AAPL, ...). A training example is W + 1 consecutive days (3(W + 1) tokens,
always starting on a day boundary, so a position says which asset comes); the loss is next-token cross
entropy. Sampling masks the logits to the asset that comes next. A sampled day becomes returns by drawing a
training day with the same three bins when one exists (60% of sampled days), else, per asset, a training
return from that asset's bin: the tails are real returns, not bin centres. Drawing per asset always (the first
version) weakens the dependence between assets inside the bins: on 12 paths as long as the test years, the
median cross-correlation was 0.366 against 0.435 in the training years; whole days give 0.405.
Conditioned on the last W days, the model gives a time-varying distribution of tomorrow's returns.

    model, q, hist = train_returns_gpt(data.load("stock-returns", split="train"), steps=600)
    paths = sample_paths(model, q, history, horizon=10, n_paths=500, seed=0)   # (500, 10, 3) log-returns

Defaults: W = 10 days, 16 bins, 2 layers, 4 heads, 32 wide, dropout 0.2, batch 64, AdamW 3e-3, cosine, 600 steps.
Trials (seed 0, one thread, shared 2-core machine, so times are noisy). Selection on a validation split inside
the training years: fit on 2000-2007, loss on 2008-2009 in nats/token; ANY model that knows only the training
quantiles scores log(n_bins) exactly, so the gain below log(n_bins) is what conditioning on the past buys:
  W 10, 16 bins, 2 x 32, dropout 0.2,  600 steps: val 2.640 (log 16 = 2.773: gain 0.133)  <- chosen
  W 10, 16 bins, 2 x 32, dropout 0.2, 1500 steps: val 2.729 (gain 0.044: more steps overfit ~6,000 tokens)
  W 20, 16 bins, 1 x 32, dropout 0.2,  600 steps: val 2.650 (gain 0.123)
  W 10, 24 bins, 2 x 48, dropout 0.2,  600 steps: val 3.206 (log 24 = 3.178: worse than no conditioning)
  W 20, 32 bins, 2 x 64, dropout 0.1,  300 steps: val 3.728 (log 32 = 3.466: gain -0.262)
The chosen recipe trained on all of 2000-2009 (600 steps, about 20 s) scores 2.604 on 2010 - March 2013.
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.models.gpt import GPT, GPTConfig, KVCache
from course_lib.models.gpt.model import sample_next

DEFAULTS = dict(window=10, n_bins=16, n_layer=2, n_head=4, n_embd=32, dropout=0.2, batch_size=64, lr=3e-3,
                warmup=100, min_lr_frac=0.1)


class Quantiser:
    """Per-asset quantile bins of training returns; encode to token ids, decode by drawing a member."""

    def __init__(self, values: np.ndarray, n_bins: int):
        values = np.asarray(values, dtype=float)                             # (T, A) training returns
        if values.ndim != 2 or values.shape[0] < 2 * n_bins:
            raise ValueError(f"need (days, assets) training returns with at least {2 * n_bins} days, got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("training returns contain NaN or inf")
        self.n_bins, self.n_assets = int(n_bins), values.shape[1]
        self.values = values
        qs = np.linspace(0, 1, n_bins + 1)[1:-1]
        self.edges = np.quantile(values, qs, axis=0).T                       # (A, n_bins - 1)
        bins = self.bins(values)                                             # (T, A)
        self.members = [[np.sort(values[bins[:, a] == b, a]) for b in range(n_bins)] for a in range(self.n_assets)]
        keys = self._day_keys(bins)                                          # (T,) each day's combination
        self.day_order = np.argsort(keys, kind="stable")                     # training days grouped by pattern
        self.sorted_keys = keys[self.day_order]
        empty = [(a, b) for a in range(self.n_assets) for b in range(n_bins) if self.members[a][b].size == 0]
        if empty:
            raise ValueError(f"bins {empty[:3]} hold no training return: use fewer bins than {n_bins}")

    @property
    def vocab_size(self) -> int:
        return self.n_assets * self.n_bins

    def bins(self, returns) -> np.ndarray:
        """(T, A) returns -> (T, A) bin indices in 0..n_bins-1."""
        r = np.asarray(returns, dtype=float)
        if r.ndim != 2 or r.shape[1] != self.n_assets:
            raise ValueError(f"returns must be (days, {self.n_assets}), got shape {r.shape}")
        return np.stack([np.searchsorted(self.edges[a], r[:, a], side="right") for a in range(self.n_assets)], 1)

    def encode(self, returns) -> np.ndarray:
        """(T, A) returns -> (T * A,) token ids, day by day, assets in column order."""
        return (self.bins(returns) + np.arange(self.n_assets) * self.n_bins).reshape(-1)

    def _day_keys(self, bins: np.ndarray) -> np.ndarray:
        """(N, A) bin indices -> (N,) one integer per combination of bins (the day's "pattern")."""
        return np.ravel_multi_index(tuple(bins.T), (self.n_bins,) * self.n_assets)

    def decode(self, bins, rng: np.random.Generator, joint: bool = True) -> np.ndarray:
        """(..., A) bin indices -> (..., A) returns. joint=True: a day whose combination of bins occurred in
        training becomes one of those training days, all assets together (keeps the dependence between the
        assets inside the bins); other days, and every day with joint=False, draw each asset's return
        uniformly from its own bin's training returns."""
        bins = np.asarray(bins)
        flat = bins.reshape(-1, self.n_assets)                                   # (N, A)
        out = np.empty(flat.shape, dtype=float)
        for a in range(self.n_assets):
            for b in np.unique(flat[:, a]):
                where = flat[:, a] == b
                m = self.members[a][b]
                out[where, a] = m[rng.integers(0, m.size, int(where.sum()))]
        if joint:
            keys = self._day_keys(flat)                                          # (N,)
            lo = np.searchsorted(self.sorted_keys, keys, side="left")            # this pattern's training days:
            count = np.searchsorted(self.sorted_keys, keys, side="right") - lo   # day_order[lo:lo + count]
            seen = np.flatnonzero(count > 0)
            pick = lo[seen] + (rng.random(seen.size) * count[seen]).astype(int)
            out[seen] = self.values[self.day_order[pick]]
        return out.reshape(bins.shape)

    def to_meta(self) -> dict:
        return {"n_bins": self.n_bins, "values": self.values.tolist()}

    @classmethod
    def from_meta(cls, meta: dict) -> "Quantiser":
        q = meta.get("quantiser", meta)
        return cls(np.asarray(q["values"], dtype=float), int(q["n_bins"]))


def _day_windows(tokens: np.ndarray, n_assets: int, window: int, batch_size: int, seed: int):
    """A callable () -> (x, y): random (W + 1)-day windows, x (B, 3(W+1) - 1) and y shifted by one token."""
    T = tokens.size // n_assets
    if T <= window + 1:
        raise ValueError(f"the training returns have {T} days: need more than window + 1 = {window + 1}")
    ids = torch.as_tensor(tokens, dtype=torch.long)
    L = (window + 1) * n_assets
    rng = np.random.default_rng(seed)
    offsets = torch.arange(L)

    def batch():
        starts = torch.as_tensor(rng.integers(0, T - window, batch_size) * n_assets)
        seq = ids[starts[:, None] + offsets[None, :]]                      # (B, L)
        return seq[:, :-1], seq[:, 1:]
    return batch


def train_returns_gpt(train_returns, *, steps: int | None = None, seconds: float | None = None, seed: int = 0,
                      progress: bool = False, **options):
    """Train the returns GPT -> (model in eval mode, Quantiser, fit History). options override DEFAULTS."""
    from course_lib import config
    from course_lib.train import CosineSchedule, fit
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(DEFAULTS)}")
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps, seconds or both")
    opt = {**DEFAULTS, **options}
    config.seed_everything(seed)
    q = Quantiser(np.asarray(train_returns, dtype=float), opt["n_bins"])
    A = q.n_assets
    cfg = GPTConfig(vocab_size=q.vocab_size, block_size=(opt["window"] + 1) * A, n_layer=opt["n_layer"],
                    n_head=opt["n_head"], n_embd=opt["n_embd"], dropout=opt["dropout"])
    model = GPT(cfg)
    optimizer = model.configure_optimizer(opt["lr"], weight_decay=0.1)
    schedule = CosineSchedule(optimizer, opt["lr"], steps=steps, seconds=seconds, warmup=opt["warmup"],
                              floor=opt["min_lr_frac"])
    batches = _day_windows(q.encode(train_returns), A, opt["window"], opt["batch_size"], seed)
    hist = fit(model, lambda m, b: m(*b)[1], batches, optimizer=optimizer, steps=steps, seconds=seconds,
               grad_clip=1.0, progress=progress, on_step=[schedule], desc="returns GPT")
    return model.eval(), q, hist


def window_of(model: GPT, n_assets: int) -> int:
    return model.config.block_size // n_assets - 1


@torch.no_grad()
def _next_day(model: GPT, context: torch.Tensor, q: Quantiser, gen: torch.Generator, expand: int = 1,
              temperature: float = 1.0) -> torch.Tensor:
    """context (B, W*A) token ids -> one sampled day (B * expand, A) of bin indices (rows b*expand..: row b)."""
    A, nb = q.n_assets, q.n_bins
    cache = KVCache(model.config.n_layer)
    logits, _ = model(context, cache=cache, check_ids=False)                 # (B, W*A, V)
    if expand > 1:                                                           # one context, many futures
        def rep(t):                                  # (B, ...) -> (B * expand, ...), row b repeated
            return t.unsqueeze(1).expand(t.size(0), expand, *t.shape[1:]).contiguous().view(-1, *t.shape[1:])
        for i in range(model.config.n_layer):
            cache.keys[i], cache.values[i] = rep(cache.keys[i]), rep(cache.values[i])
        logits = rep(logits[:, -1:])
    out = []
    for a in range(A):
        b = sample_next(logits[:, -1, a * nb:(a + 1) * nb], temperature, generator=gen)   # (R, 1): asset a's bins
        out.append(b[:, 0])
        if a < A - 1:
            logits, _ = model(b + a * nb, cache=cache, check_ids=False)      # (R, 1, V)
    return torch.stack(out, 1)                                               # (R, A)


@torch.no_grad()
def sample_paths(model: GPT, q: Quantiser, history, horizon: int, n_paths: int, seed: int = 0,
                 temperature: float = 1.0) -> np.ndarray:
    """n_paths return paths of `horizon` days after `history` (days, A), which must hold at least the
    model's W days (only the last W are used) -> (n_paths, horizon, A) log-returns."""
    return sample_paths_batch(model, q, [history], horizon, n_paths, seed, temperature)[0]


@torch.no_grad()
def sample_paths_batch(model: GPT, q: Quantiser, histories, horizon: int, n_paths: int, seed: int = 0,
                       temperature: float = 1.0) -> np.ndarray:
    """sample_paths for several histories at once -> (len(histories), n_paths, horizon, A)."""
    A, W = q.n_assets, window_of(model, q.n_assets)
    if horizon < 1 or n_paths < 1:
        raise ValueError(f"horizon and n_paths must be positive, got {horizon} and {n_paths}")
    ctx = []
    for h in histories:
        h = np.asarray(h, dtype=float)
        if h.ndim != 2 or h.shape[1] != A or h.shape[0] < W:
            raise ValueError(f"each history must be (days >= {W}, {A}) returns (the model conditions on the last "
                             f"{W} days), got shape {h.shape}")
        ctx.append(q.encode(h[-W:]))
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    context = torch.as_tensor(np.stack(ctx), dtype=torch.long, device=dev)      # (B, W*A)
    days = []
    for t in range(horizon):
        day = _next_day(model, context, q, gen, expand=n_paths if t == 0 else 1, temperature=temperature)
        days.append(day)                                                     # (B*n_paths, A)
        if t == 0:
            context = context.repeat_interleave(n_paths, 0)
        context = torch.cat([context[:, A:], day + torch.arange(A, device=dev) * q.n_bins], 1)
    model.train(was)
    bins = torch.stack(days, 1).cpu().numpy().reshape(len(histories), n_paths, horizon, A)
    return q.decode(bins, np.random.default_rng(seed))


@torch.no_grad()
def heldout_loss(model: GPT, q: Quantiser, returns) -> float:
    """Mean next-token loss (nats/token) over consecutive non-overlapping (W + 1)-day windows of returns."""
    A, W = q.n_assets, window_of(model, q.n_assets)
    ids = torch.as_tensor(q.encode(returns), dtype=torch.long)
    L = (W + 1) * A
    n = ids.numel() // L
    if n < 1:
        raise ValueError(f"need at least {W + 1} days of returns, got {ids.numel() // A}")
    seq = ids[:n * L].view(n, L)
    was = model.training
    model.eval()
    _, loss = model(seq[:, :-1], seq[:, 1:])
    model.train(was)
    return float(loss)


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out, options: dict) -> dict:
    """`genai-course train gpt --dataset stock-returns` (recipes.gpt hands it over): train on 2000-2009,
    save a checkpoint (family gpt, the quantiser's training returns in its meta) and return a summary."""
    from course_lib import checkpoints, config, data
    if dataset != "stock-returns":
        raise SystemExit(f"error: the returns recipe trains on 'stock-returns', got {dataset!r}")
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise SystemExit(f"error: unknown option(s) {', '.join(unknown)} for returns; known: {', '.join(DEFAULTS)}")
    kinds = {k: type(v) for k, v in DEFAULTS.items()}
    opts = {k: kinds[k](v) for k, v in options.items()}
    if steps is None and seconds is None:
        steps = config.budget(600, 30)
    train, test = data.load(dataset, split="train"), data.load(dataset, split="test")
    model, q, hist = train_returns_gpt(train, steps=steps, seconds=seconds, seed=seed, **opts)
    val = heldout_loss(model, q, test)
    checkpoints.save(out, model, model.config_dict(), family="gpt", dataset=dataset, quantiser=q.to_meta(),
                     assets=list(train.columns), window=window_of(model, q.n_assets), steps=len(hist.steps),
                     seconds=round(hist.seconds, 1), val_loss=val,
                     loss_curve=[round(float(x), 4) for x in hist.loss[::max(1, len(hist.loss) // 100)]])
    return {"parameters": model.num_params(), "steps": len(hist.steps), "seconds": round(hist.seconds, 1),
            "train_loss (last)": round(hist.loss[-1], 4), "test_loss (nats/token)": round(val, 4)}
