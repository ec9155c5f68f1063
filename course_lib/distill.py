"""Knowledge distillation (Hinton, Vinyals and Dean 2015): a small student learns the teacher's soft targets.

The teacher's full next-token distribution says more than the one observed token ("'e' was likely, 'a'
nearly as likely"). Softened by a temperature T (softmax(logits / T)), it is matched with the KL divergence
KL(teacher_T || student_T), multiplied by T^2 so its gradients keep their size as T changes (they scale
as 1 / T^2), and mixed with the usual cross-entropy on the data:

    loss = alpha * T^2 * KL(p_teacher^T || p_student^T) + (1 - alpha) * CE(student, targets)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor | None = None,
                      temperature: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    """student_logits, teacher_logits (..., V); targets (...) int64 or None (then alpha must be 1).
    Returns a scalar: the mean over positions of the loss above (nats)."""
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student and teacher logits must have the same shape (..., V), got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha (weight of the teacher's term) must be in [0, 1], got {alpha!r}")
    if targets is None and alpha < 1:
        raise ValueError(f"without targets only the teacher's term is available: use alpha=1, got alpha={alpha!r}")
    V = student_logits.size(-1)
    s = F.log_softmax(student_logits.reshape(-1, V) / temperature, dim=-1)          # (N, V)
    t = F.log_softmax(teacher_logits.detach().reshape(-1, V) / temperature, dim=-1)  # (N, V), no gradient
    kl = (t.exp() * (t - s)).sum(-1).mean()                                          # KL(teacher || student)
    loss = alpha * temperature ** 2 * kl
    if alpha < 1:
        loss = loss + (1 - alpha) * F.cross_entropy(student_logits.reshape(-1, V), targets.reshape(-1))
    return loss
