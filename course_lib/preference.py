"""Preference tuning with DPO (Rafailov et al. 2023): teach a language model which of two continuations
people prefer, without a reward model or reinforcement learning.

RLHF fits a reward model r(x, y) to preference pairs (y_w preferred to y_l after prompt x), then maximises
E[r] - beta KL(pi || pi_ref) with PPO. That objective has a closed-form optimum,
pi*(y|x) proportional to pi_ref(y|x) exp(r(x, y) / beta), so the reward can be written with the policy itself:
r(x, y) = beta log(pi(y|x) / pi_ref(y|x)) + (a term of x alone, which cancels in a pair). Put that into the
Bradley-Terry likelihood of the preferences, P(y_w > y_l) = sigmoid(r_w - r_l), and the loss is

    L = -log sigmoid( beta [ (log pi(y_w|x) - log pi_ref(y_w|x)) - (log pi(y_l|x) - log pi_ref(y_l|x)) ] )

a classification loss on log-probabilities: the frozen reference model pi_ref keeps the policy close to
where it started (beta sets how close).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def sequence_logprob(model, ids: torch.Tensor, prompt_len: int | torch.Tensor) -> torch.Tensor:
    """log pi(y | x) for each row of ids (B, T) = [prompt x | continuation y]: the sum of the next-token
    log-probabilities of the continuation's tokens -> (B,). prompt_len: one int or (B,) per row."""
    if ids.dim() != 2 or ids.dtype != torch.long:
        raise ValueError(f"ids must be int64 (B, T), got {tuple(ids.shape)} {ids.dtype}")
    B, T = ids.shape
    start = torch.as_tensor(prompt_len, device=ids.device).expand(B)                   # (B,)
    if (start < 1).any() or (start >= T).any():
        raise ValueError(f"prompt_len must be in 1..{T - 1} (a prompt and at least one continuation token), "
                         f"got {start.tolist()}")
    logits, _ = model(ids[:, :-1])                                                     # (B, T-1, V)
    logp = F.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)   # (B, T-1)
    # position j predicts token j + 1: continuation tokens are those with index >= prompt_len
    in_continuation = torch.arange(1, T, device=ids.device)[None, :] >= start[:, None]  # (B, T-1)
    return (logp * in_continuation).sum(dim=1)                                          # (B,)


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = 0.1) -> tuple[torch.Tensor, dict]:
    """The DPO loss (mean over pairs) from the four (B,) sequence log-probabilities, and diagnostics:
    the implicit rewards beta log(pi / pi_ref) of both continuations, their margin and the share of
    pairs where the chosen one has the larger reward."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta!r}")
    shapes = {t.shape for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"the four log-probabilities must be (B,) tensors of one shape, got {sorted(shapes)}")
    r_chosen = beta * (policy_chosen - ref_chosen)                                      # (B,)
    r_rejected = beta * (policy_rejected - ref_rejected)                                # (B,)
    loss = -F.logsigmoid(r_chosen - r_rejected).mean()
    stats = {"reward_chosen": r_chosen.mean().item(), "reward_rejected": r_rejected.mean().item(),
             "margin": (r_chosen - r_rejected).mean().item(),
             "accuracy": (r_chosen > r_rejected).float().mean().item()}
    return loss, stats
