"""The GAN losses, all on the discriminator's logits (numerically safe via softplus), and the two gradient
penalties that keep the discriminator smooth (WGAN-GP's and R1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.models.inputs import rand

LOSSES = ("minimax", "nonsaturating", "wgan-gp")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy: real labelled 1, fake labelled 0. -log s(r) = softplus(-r); -log(1-s(f)) = softplus(f)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original game's generator term, minimised: E[log(1 - s(D(G(z))))] = -E[softplus(f)].
    Its gradient s(f) vanishes when D confidently rejects the fakes (f << 0), i.e. early in training."""
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log s(D(G(z)))] = E[softplus(-f)]: gradient 1 - s(f) is largest exactly when the fakes are rejected."""
    return F.softplus(-fake_logits).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN critic: maximise E[D(real)] - E[D(fake)], i.e. minimise its negative (add the gradient penalty)."""
    return fake_scores.mean() - real_scores.mean()


def generator_loss_wgan(fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN generator: raise the critic's score of the fakes."""
    return -fake_scores.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None = None,
                     eps: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = eps * real + (1 - eps) * fake, eps ~ U(0, 1) per example.

    critic: callable x -> (B,) scores (or (x, labels) -> scores when labels are given).
    real, fake: (B, ...) same shape. eps: optional (B,) fixed interpolation weights (for tests).
    Known case: a linear critic D(x) = w.x has gradient w everywhere, so the penalty is (||w|| - 1)^2.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    b = real.shape[0]
    if eps is None:
        eps = rand(b, generator=generator, device=real.device, dtype=real.dtype)
    eps = eps.reshape(b, *([1] * (real.dim() - 1)))                     # (B, 1, ...) broadcast over features
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat) if labels is None else critic(x_hat, labels)  # (B,)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, ...) d score_i / d x_hat_i
    norms = grad.reshape(b, -1).norm(dim=1)                              # (B,)
    return ((norms - 1) ** 2).mean()


def r1_penalty(discriminator, real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E_data[||grad_x D(x)||^2], the squared gradient norm on *real* data only.

    Added to D's loss as (gamma / 2) * R1. At the equilibrium (G = data) the ideal D is flat, so its gradient
    on real points should be zero; penalising it stops D from building steep walls around each real mode,
    which is what makes plain GAN training oscillate instead of converge.
    discriminator: callable x -> (B,) logits (or (x, labels) -> logits). real: (B, ...).
    Known case: a linear D(x) = w.x has gradient w everywhere, so R1 = ||w||^2.
    """
    x = real.detach().requires_grad_(True)                               # (B, ...)
    logits = discriminator(x) if labels is None else discriminator(x, labels)  # (B,) or (B/pack,)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)    # (B, ...) d logit / d x
    return grad.reshape(grad.shape[0], -1).pow(2).sum(dim=1).mean()
