"""Generative adversarial networks (Goodfellow et al. 2014): a generator against a discriminator.

The generator G maps noise z ~ N(0, I) to a sample x = G(z); the discriminator D(x) outputs a logit
saying "real" (high) or "fake" (low). They play a two-player game:

    min_G max_D  E_data[log sigmoid(D(x))] + E_z[log(1 - sigmoid(D(G(z))))]

Losses here all take the discriminator's *logits* (numerically safe via softplus):
  - discriminator_loss:           -E[log s(D(x))] - E[log(1 - s(D(G(z))))]  (binary cross-entropy)
  - generator_loss_minimax:        E[log(1 - s(D(G(z))))]   saturates: no gradient when D wins early
  - generator_loss_nonsaturating: -E[log s(D(G(z)))]         same fixed point, strong gradient early
  - critic_loss / generator_loss_wgan + gradient_penalty: WGAN-GP (Gulrajani et al. 2017), where D is a
    "critic" estimating the Wasserstein-1 distance and the penalty keeps it (about) 1-Lipschitz.

Diversity fix: PacGAN (Lin et al. 2018) lets D judge `pack` samples at once, concatenated, so a
generator that repeats itself is easy to spot.

Other fixes, all off by default in the classes (on in recipes.gan.DEFAULTS where they won, benchmarks/gan.py):
  - latent_modes=K: z from a mixture of K Gaussians instead of one (DeLiGAN, Gurumurthy et al. 2017).
    A continuous G maps one connected blob of z onto a connected set, so between two data modes it must
    leave a "bridge" of bad samples; K well-separated blobs can go to separate modes with nothing between.
  - g_batchnorm, data_scale (2-D points divided by it inside both networks, as in the diffusion module).
  - r1_penalty (Mescheder et al. 2018) and spectral_norm of D (Miyato et al. 2018) here; translate
    (DiffAugment, Zhao et al. 2020) and an EMA of G's weights are training options of
    course_lib.recipes.gan.GANTrainer, the training step.

    model = GAN(data_shape=(2,), latent_dim=8, hidden=128, pack=4)    # 2-D toy data
    trainer = GANTrainer(model, loss="nonsaturating")                  # recipes.gan: owns both Adam optimizers
    history = fit(model, None, batches, step_fn=trainer, seconds=30)   # course_lib.train.fit
    x = model.sample(1000)                                             # (1000, 2)
    cgan = GAN(data_shape=(1, 8, 8), arch="conv", num_classes=10)      # images, conditional on the digit

The package: `losses` (the losses on logits and the two gradient penalties), `networks` (Generator,
Discriminator and GAN, which samples).
"""
from course_lib.models.gan.losses import (LOSSES, critic_loss, discriminator_loss, generator_loss_minimax,
                                          generator_loss_nonsaturating, generator_loss_wgan, gradient_penalty,
                                          r1_penalty)
from course_lib.models.gan.networks import ARCHS, GAN, LATENT_MODE_STD, Discriminator, Generator, build

__all__ = ["GAN", "Generator", "Discriminator", "build", "discriminator_loss", "generator_loss_minimax",
           "generator_loss_nonsaturating", "critic_loss", "generator_loss_wgan", "gradient_penalty", "r1_penalty",
           "LOSSES", "ARCHS", "LATENT_MODE_STD"]
