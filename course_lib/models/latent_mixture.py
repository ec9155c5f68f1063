"""An ex-post prior for a trained VAE: a Gaussian mixture fitted to the codes of the training images.

Kept beside the VAE rather than inside it: it is fitted after training (by EM, not by gradient descent),
stored in a checkpoint's meta rather than its state_dict, and leaves the VAE's likelihood unchanged.
"""
from __future__ import annotations

import torch

from course_lib.models.inputs import multinomial, randn


class LatentMixture:
    """A Gaussian mixture fitted to where the encoder puts the training images: a better source of codes.

    Training pulls each q(z|x) towards N(0, I), but the *aggregate* posterior (all codes together) never
    fills the prior exactly: it leaves holes, and a prior sample that lands in one decodes to a non-digit.
    Fitting a density to the training codes after training ("ex-post density estimation", Ghosh et al.
    2020) and sampling from it keeps the decoder and the likelihood as they are and avoids the holes.
    Fitted with scikit-learn's EM (the algorithm of notebook 01); sampled with torch, so a seeded
    generator gives the same codes every run.

        mix = LatentMixture.fit(vae, train_images, k=20)
        images = vae.sample(1000, z=mix.sample(1000, generator=g))
    """

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, scale_tril: torch.Tensor):
        self.weights, self.means, self.scale_tril = weights, means, scale_tril     # (K,), (K, D), (K, D, D)

    @classmethod
    @torch.no_grad()
    def fit(cls, model, images: torch.Tensor, k: int = 20, seed: int = 0) -> "LatentMixture":
        from sklearn.mixture import GaussianMixture
        if model.num_classes:
            raise ValueError("LatentMixture is for unconditional VAEs; a ConditionalVAE samples per label")
        mu = model.codes(images)                                                   # (N, D) posterior means
        if len(mu) < 2 * k:
            raise ValueError(f"need at least {2 * k} images to fit {k} components, got {len(mu)}")
        reg = 1e-3 * mu.var(0).mean().item()               # keeps every covariance invertible, scaled to the codes
        gm = GaussianMixture(k, covariance_type="full", reg_covar=reg, random_state=seed).fit(mu.cpu().double().numpy())
        weights, means, covs = (torch.tensor(a, dtype=torch.float32) for a in (gm.weights_, gm.means_, gm.covariances_))
        return cls(weights, means, torch.linalg.cholesky(covs))                    # (K,), (K, D), (K, D, D)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes (n, D): pick a component by weight, then mean + L @ eps."""
        comp = multinomial(self.weights, n, replacement=True, generator=generator)         # (n,)
        eps = randn((n, self.means.shape[1], 1), generator=generator, device=self.means.device)  # (n, D, 1)
        return self.means[comp] + (self.scale_tril[comp] @ eps).squeeze(-1)                # (n, D)

    def state(self) -> dict:
        """Plain tensors, to store in a checkpoint's meta."""
        return {"weights": self.weights, "means": self.means, "scale_tril": self.scale_tril}

    @classmethod
    def from_state(cls, state: dict) -> "LatentMixture":
        return cls(state["weights"], state["means"], state["scale_tril"])
