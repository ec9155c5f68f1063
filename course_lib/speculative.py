"""Speculative decoding (Leviathan et al. 2023; Chen et al. 2023): a cheap draft guesses, the target checks.

Each round the draft model q proposes k tokens one by one; the target model p scores all k (and one more
position) in ONE forward pass. Token i is kept with probability min(1, p_i(x_i) / q_i(x_i)); at the first
rejection a replacement is drawn from norm(max(0, p_i - q_i)) and the round ends; if all k are kept a
(k+1)-th token comes from p_{k+1} for free. This rule makes every emitted token exactly a draw from p:
P(emit x) = q(x) min(1, p(x)/q(x)) + (1 - sum_y min(q(y), p(y))) (p(x) - q(x))+ / Z = p(x) (the paper's
Appendix A.1). So speed changes and the output distribution does not.

With per-token acceptance rate alpha and draft cost c (one draft step / one target step), a round yields
(1 - alpha^(k+1)) / (1 - alpha) tokens for the price of k c + 1 target steps (Leviathan et al., eq. 1 and
Theorem 3.8): `expected_speedup(alpha, c, k)`.

    out, stats = speculative_generate(gpt, small_gpt, prompt, 200, k=4, generator=g)   # prompt (1, T)
    stats["alpha"], stats["tokens_per_round"]
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.models.gpt.layers import KVCache


def vocab_size_of(model) -> int:
    cfg = getattr(model, "config", None)
    return cfg.vocab_size if cfg is not None else model.vocab_size


def expected_tokens(alpha: float, k: int) -> float:
    """Tokens one round emits on average: 1 + alpha + ... + alpha^k."""
    return float(k + 1) if alpha >= 1 else (1 - alpha ** (k + 1)) / (1 - alpha)


def expected_speedup(alpha: float, c: float, k: int) -> float:
    """Leviathan et al.'s predicted wall-time speed-up over plain decoding with the target alone."""
    return expected_tokens(alpha, k) / (k * c + 1)


def probs_from_logits(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """(..., V) logits -> probabilities; temperature 0 is greedy (a one-hot on the argmax)."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    if temperature == 0:
        return F.one_hot(logits.argmax(-1), logits.size(-1)).to(logits.dtype)
    return F.softmax(logits / temperature, dim=-1)


def accept_draft(p: torch.Tensor, q: torch.Tensor, draft: torch.Tensor, generator=None) -> tuple[int, int]:
    """The exact acceptance rule. p (k+1, V) target probabilities at the k drafted positions and one more,
    q (k, V) the draft's, draft (k,) the drafted ids -> (how many drafts are kept, the next token id)."""
    k = draft.numel()
    if p.shape != (k + 1, q.size(-1)) or q.shape != (k, p.size(-1)):
        raise ValueError(f"need p (k+1, V) and q (k, V) for k = {k} drafted tokens, got p {tuple(p.shape)}, "
                         f"q {tuple(q.shape)}")
    for i in range(k):
        x = int(draft[i])
        u = torch.rand((), generator=generator, device=p.device)
        if u * q[i, x] < p[i, x]:                        # keep with probability min(1, p(x) / q(x))
            continue
        residual = (p[i] - q[i]).clamp_min(0)            # where the target wants more than the draft gave
        if residual.sum() <= 0:                          # p == q up to rounding: rejection had probability 0
            residual = p[i]
        return i, int(torch.multinomial(residual / residual.sum(), 1, generator=generator))
    return k, int(torch.multinomial(p[k], 1, generator=generator))


class ModelStream:
    """Next-token logits of one model along a growing sequence, recomputing as little as it can.

    A GPT keeps a KV cache of the window seq[offset:]; a call keeps the cached prefix that still matches
    (rejected drafts are rolled back by shortening the cache) and runs only the rest. When the window
    would pass block_size it restarts half a window back (learned positions cannot slide), as
    GPT.generate does. Other models (the n-gram draft) are run on the last `context` + m tokens.
    """

    def __init__(self, model):
        self.model = model
        self.cfg = getattr(model, "config", None)
        self.cached = hasattr(model, "blocks") and self.cfg is not None
        self.cache = KVCache(self.cfg.n_layer, self.cfg.block_size) if self.cached else None
        self.offset, self.tokens, self.calls = 0, None, 0

    @torch.no_grad()
    def logits(self, seq: torch.Tensor, m: int = 1) -> torch.Tensor:
        """seq (1, N) -> logits (m, V) predicting the token after each of the last m positions."""
        self.calls += 1
        N = seq.size(1)
        if not self.cached:
            ctx = getattr(self.model, "context", None)
            return self.model(seq if ctx is None else seq[:, -(ctx + m):])[0][0, -m:]
        bs = self.cfg.block_size
        if m > bs:
            raise ValueError(f"cannot score {m} positions at once with block_size {bs}")
        keep = min(self.cache.length, N - m - self.offset)
        if keep > 0:                                      # the cached tokens that still match seq
            same = self.tokens[:keep] == seq[0, self.offset:self.offset + keep]
            keep = int(same.long().cumprod(0).sum())
        if N - self.offset > bs:                          # window full: restart half a window back
            self.offset, keep = N - max(bs // 2, m), 0
        self.cache.length = max(keep, 0)
        out, _ = self.model(seq[:, self.offset + self.cache.length:], cache=self.cache, check_ids=False)
        self.tokens = seq[0, self.offset:]
        return out[0, -m:]


def _check(target, draft, prompt, max_new_tokens, k):
    vt, vd = vocab_size_of(target), vocab_size_of(draft)
    if vt != vd:
        raise ValueError(f"the draft model must share the target's vocabulary: target vocab_size {vt}, "
                         f"draft vocab_size {vd}")
    if not isinstance(prompt, torch.Tensor) or prompt.dim() != 2 or prompt.size(0) != 1 or prompt.dtype != torch.long:
        got = f"{tuple(prompt.shape)} {prompt.dtype}" if isinstance(prompt, torch.Tensor) else type(prompt).__name__
        raise ValueError(f"prompt must be an int64 tensor of shape (1, T) (one sequence), got {got}")
    for name, v, lo in (("max_new_tokens", max_new_tokens, 0), ("k", k, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")


@torch.no_grad()
def speculative_generate(target, draft, prompt: torch.Tensor, max_new_tokens: int, k: int = 4,
                         temperature: float = 1.0, generator=None):
    """Continue prompt (1, T) by max_new_tokens tokens distributed exactly as the target would sample them.

    Returns (ids (1, T + max_new_tokens), stats): rounds, accepted, rejected, alpha (accepted per
    tested draft token), tokens_per_round, target_calls, draft_calls. k = 0 is plain decoding.
    """
    _check(target, draft, prompt, max_new_tokens, k)
    was = target.training, draft.training
    target.eval(), draft.eval()
    ts, ds = ModelStream(target), ModelStream(draft)
    seq, T0 = prompt, prompt.size(1)
    rounds = accepted = rejected = 0
    while seq.size(1) - T0 < max_new_tokens:
        kk = min(k, max_new_tokens - (seq.size(1) - T0) - 1)     # never draft past the end
        cur, qs, xs = seq, [], []
        for _ in range(kk):                                       # 1. the draft guesses kk tokens
            q = probs_from_logits(ds.logits(cur, 1)[0], temperature)                         # (V,)
            x = torch.multinomial(q, 1, generator=generator)                                 # (1,)
            qs.append(q), xs.append(x)
            cur = torch.cat([cur, x[None]], dim=1)
        p = probs_from_logits(ts.logits(cur, kk + 1), temperature)                           # (kk+1, V)
        drafted = torch.cat(xs) if xs else torch.zeros(0, dtype=torch.long, device=seq.device)
        q = torch.stack(qs) if qs else p.new_zeros(0, p.size(-1))
        n, nxt = accept_draft(p, q, drafted, generator)           # 2. the target keeps n, adds one
        seq = torch.cat([seq, drafted[None, :n], torch.tensor([[nxt]], device=seq.device)], dim=1)
        rounds, accepted, rejected = rounds + 1, accepted + n, rejected + (n < kk)
    target.train(was[0]), draft.train(was[1])
    tested = accepted + rejected
    stats = dict(rounds=rounds, accepted=accepted, rejected=rejected, alpha=accepted / tested if tested else float("nan"),
                 tokens_per_round=max_new_tokens / rounds if rounds else float("nan"),
                 target_calls=ts.calls, draft_calls=ds.calls)
    return seq, stats
