"""Membership inference: did this example train the model? The loss-threshold attack and its evaluation.

The attack (Yeom et al. 2018; the baseline of Shokri et al. 2017 and Carlini et al. 2022) scores each candidate
by minus its loss: a model fits its training examples better than unseen ones. How well it separates members
from non-members is read from the ROC curve: its area (AUC, 0.5 = guessing) and, as Carlini et al. 2022 insist,
the true-positive rate at a LOW false-positive rate (an attack that is sure about a few members is a leak even
when its AUC is near 0.5). The metric functions take plain scores and serve any attack (text or images).

On the GPT the membership unit is one line of text (a line of a play): `line_losses` scores each line by its
mean next-character loss given the line before it as context.
"""
from __future__ import annotations

import math

import torch


def _scores(x, name: str) -> torch.Tensor:
    """A 1-D float64 tensor of finite scores, or a clear error."""
    t = torch.as_tensor(x, dtype=torch.float64).flatten() if not isinstance(x, torch.Tensor) \
        else x.detach().to("cpu", torch.float64).flatten()
    if t.numel() == 0:
        raise ValueError(f"{name} must hold at least one score, got an empty set")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite scores, got {int((~torch.isfinite(t)).sum())} NaN/inf values")
    return t


def roc_auc(scores_members, scores_nonmembers) -> float:
    """Area under the ROC curve of an attack that calls 'member' when the score is HIGH: the probability that
    a random member scores above a random non-member, ties counting one half (the Mann-Whitney U statistic).
    0.5: the attack cannot tell; 1.0: it always can."""
    m, n = _scores(scores_members, "scores_members"), _scores(scores_nonmembers, "scores_nonmembers")
    allv = torch.cat([m, n])
    order = torch.argsort(allv, stable=True)
    ranks = torch.empty_like(allv)
    ranks[order] = torch.arange(1, len(allv) + 1, dtype=torch.float64)
    uniq, inverse = torch.unique(allv, return_inverse=True)              # ties: average rank per value
    sums = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inverse, ranks)
    counts = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inverse, torch.ones_like(ranks))
    ranks = (sums / counts)[inverse]
    u = ranks[: len(m)].sum() - len(m) * (len(m) + 1) / 2                # pairs where a member wins
    return float(u / (len(m) * len(n)))


def tpr_at_fpr(scores_members, scores_nonmembers, fpr: float = 0.01) -> float:
    """The share of members caught at the threshold that flags at most `fpr` of the non-members: 'member'
    when score > the (floor(fpr * n) + 1)-th highest non-member score, so the measured false-positive rate
    never exceeds `fpr` (ties at the threshold are not flagged).
    With n non-members an fpr below 1/n can only be met by flagging nothing above the top non-member:
    the answer is then the share of members scoring above every non-member (say how many non-members you had)."""
    if isinstance(fpr, bool) or not isinstance(fpr, (int, float)) or not 0.0 <= fpr < 1.0:
        raise ValueError(f"fpr must be a number in [0, 1), got {fpr!r}")
    m, n = _scores(scores_members, "scores_members"), _scores(scores_nonmembers, "scores_nonmembers")
    allowed = math.floor(fpr * len(n) + 1e-9)                            # non-members we may flag
    desc = torch.sort(n, descending=True).values
    threshold = desc[allowed] if allowed < len(n) else -math.inf       # flag strictly above this score
    # ties at the threshold are not flagged, so at most `allowed` non-members are above it
    return float((m > threshold).double().mean())


def loss_threshold_scores(losses) -> torch.Tensor:
    """The attack's score: minus the loss (a lower loss looks like a member)."""
    return -_scores(losses, "losses")


@torch.no_grad()
def line_losses(model, tokenizer, lines, *, batch_size: int = 64) -> torch.Tensor:
    """(len(lines),) mean next-token loss (nats/token) of each line, each read after a newline (the
    membership unit: one line, scored alone). A line longer than block_size - 1 tokens is scored on its
    first block_size - 1 tokens."""
    if isinstance(lines, str) or len(lines) == 0:
        raise ValueError("lines must be a non-empty list of strings (one membership unit each)")
    model.eval()
    device = next(model.parameters()).device
    T = model.config.block_size
    nl = tokenizer.encode("\n")
    rows = [(nl + tokenizer.encode(s))[:T] for s in lines]
    if any(len(r) < 2 for r in rows):
        raise ValueError("every line needs at least one character to score")
    out = torch.empty(len(rows))
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        L = max(len(r) for r in chunk)
        x = torch.zeros(len(chunk), L, dtype=torch.long)
        y = torch.full((len(chunk), L), -1, dtype=torch.long)
        for j, r in enumerate(chunk):
            x[j, : len(r)] = torch.tensor(r)
            y[j, : len(r) - 1] = torch.tensor(r[1:])
        logits, _ = model(x[:, :-1].to(device) if L > 1 else x.to(device))
        yy = y[:, :-1].to(device)
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), yy, ignore_index=-1, reduction="none")
        mask = (yy >= 0).float()
        out[i:i + len(chunk)] = ((nll * mask).sum(1) / mask.sum(1)).cpu()
    return out
