"""Latent diffusion conditioned on text (Rombach et al. 2022), in miniature.

Three parts, trained in turn: an autoencoder compresses images to a small latent (`autoencoder`); a text
encoder turns a caption into token embeddings; a transformer denoiser runs the diffusion of notebook 07
in the latent space and reads the caption through cross-attention (`attention`). Classifier-free guidance
and DDIM sampling reuse course_lib.models.diffusion's steps. Training on a budget, defaults and the
`genai-course train t2i` / `sample` adapters are in course_lib.recipes.t2i.

    model = LatentDiffusion(words=data.words(), image_channels=3, image_size=16)
    model.ae_loss(images)                         # 1. the autoencoder
    model.loss(images, model.tokenize(captions))  # 2. the latent denoiser (autoencoder frozen)
    x = model.sample(8, prompts="a small red circle at the top", guidance=3.0, steps=50)   # (8, 3, 16, 16)
"""
from course_lib.models.latent_diffusion.attention import CrossAttention
from course_lib.models.latent_diffusion.autoencoder import AutoEncoder
from course_lib.models.latent_diffusion.model import LatentDenoiser, LatentDiffusion, TextEncoder

__all__ = ["LatentDiffusion", "AutoEncoder", "CrossAttention", "LatentDenoiser", "TextEncoder"]
