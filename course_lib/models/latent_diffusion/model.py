"""LatentDiffusion: autoencoder + caption encoder + a latent denoiser that reads the caption by cross-attention."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.clip import EncoderBlock
from course_lib.models.diffusion.schedule import NoiseSchedule, _check_timesteps, make_betas
from course_lib.models.diffusion.steps import _per_example, ddim_step, ddim_timesteps, guided_eps, q_sample
from course_lib.models.gpt import MLP, GPTConfig
from course_lib.models.inputs import Configured, check_n, eval_mode, rand, randint, randn
from course_lib.models.latent_diffusion.attention import CrossAttention
from course_lib.models.latent_diffusion.autoencoder import AutoEncoder
from course_lib.tokenizers import WordTokenizer


class TextEncoder(nn.Module):
    """Caption tokens (B, T) -> token embeddings (B, T, D) and keep (B, T): clip.py's non-causal blocks."""

    def __init__(self, vocab_size: int, width: int, n_layer: int, n_head: int, max_words: int):
        super().__init__()
        cfg = GPTConfig(vocab_size=vocab_size, block_size=max_words, n_layer=n_layer, n_head=n_head, n_embd=width)
        self.tok_emb, self.pos_emb = nn.Embedding(vocab_size, width), nn.Embedding(max_words, width)
        self.blocks = nn.ModuleList(EncoderBlock(cfg) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(width)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep = tokens != 0                                                    # (B, T) real words
        x = self.tok_emb(tokens) + self.pos_emb(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x, keep)
        return self.ln_f(x), keep                                             # (B, T, D), (B, T)


class Block(nn.Module):
    """Pre-norm transformer block over latent positions: self-attention, cross-attention to the text, MLP."""

    def __init__(self, width: int, text_width: int, n_head: int):
        super().__init__()
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(width), nn.LayerNorm(width), nn.LayerNorm(width)
        self.self_attn = CrossAttention(width, width, n_head)
        self.cross_attn = CrossAttention(width, text_width, n_head)
        self.mlp = MLP(GPTConfig(n_embd=width))
        self.time = nn.Linear(width, width)

    def forward(self, x, temb, context, keep):                                # x (B, N, C), temb (B, C)
        x = x + self.time(temb)[:, None]
        h = self.ln1(x)
        x = x + self.self_attn(h, h)                                          # positions see each other
        x = x + self.cross_attn(self.ln2(x), context, keep)                  # ... and read the caption
        return x + self.mlp(self.ln3(x))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer steps t (B,) -> (B, dim), as in the Transformer and DDPM."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)    # (half,)
    angles = t.float()[:, None] * freqs[None]                                           # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class LatentDenoiser(nn.Module):
    """v_theta(z_t, t, caption): the latent grid (B, c, h, w) as h*w tokens through `depth` Blocks."""

    def __init__(self, latent_channels: int, side: int, width: int, depth: int, n_head: int, text_width: int):
        super().__init__()
        self.width = width
        self.inp = nn.Linear(latent_channels, width)
        self.pos = nn.Parameter(torch.randn(side * side, width) * 0.02)        # (N, C) learned positions
        self.t_mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList(Block(width, text_width, n_head) for _ in range(depth))
        self.ln_f, self.out = nn.LayerNorm(width), nn.Linear(width, latent_channels)

    def forward(self, z, t, context, keep):                                   # z (B, c, h, w), t (B,)
        B, c, h, w = z.shape
        x = self.inp(z.flatten(2).transpose(1, 2)) + self.pos                 # (B, N, C), N = h w
        temb = self.t_mlp(timestep_embedding(t, self.width))                  # (B, C)
        for block in self.blocks:
            x = block(x, temb, context, keep)
        return self.out(self.ln_f(x)).transpose(1, 2).reshape(B, c, h, w)     # (B, c, h, w)


class LatentDiffusion(Configured, nn.Module):
    """Text-to-image in miniature: `ae_loss(x)` trains the autoencoder, `loss(x, tokens)` the latent
    denoiser, `sample(n, prompts=...)` generates (n, C, S, S) images in [0, 1].

    The conditioning of this family is `prompts` (captions in the vocabulary `words`), not `labels`.
    The denoiser predicts v (see course_lib.models.diffusion); a caption is replaced by the learned null
    caption with probability p_uncond in training, so the same network gives the unconditional prediction
    for classifier-free guidance. clip: predicted clean latents are clamped to [-clip, clip] while sampling
    (the latents are standardised, so 3 spreads cover almost all of them).
    """

    def __init__(self, words, image_channels: int = 3, image_size: int = 16, latent_channels: int = 4,
                 ae_width: int = 32, width: int = 128, depth: int = 4, n_head: int = 4, text_width: int = 64,
                 text_layers: int = 2, max_words: int = 16, timesteps: int = 1000, schedule: str = "cosine",
                 p_uncond: float = 0.1, clip: float = 3.0):
        super().__init__()
        self.tokenizer = WordTokenizer(words)
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (the autoencoder halves it twice), got {image_size}")
        if not 0 <= p_uncond < 1:
            raise ValueError(f"p_uncond must be in [0, 1), got {p_uncond}")
        self.config = dict(words=self.tokenizer.words, image_channels=image_channels, image_size=image_size,
                           latent_channels=latent_channels, ae_width=ae_width, width=width, depth=depth,
                           n_head=n_head, text_width=text_width, text_layers=text_layers, max_words=max_words,
                           timesteps=_check_timesteps(timesteps), schedule=schedule, p_uncond=p_uncond, clip=clip)
        self.image_shape = (image_channels, image_size, image_size)
        self.latent_shape = (latent_channels, image_size // 4, image_size // 4)
        self.timesteps, self.p_uncond, self.clip, self.max_words = timesteps, p_uncond, clip, max_words
        self.ae = AutoEncoder(image_channels, latent_channels, ae_width)
        self.text = TextEncoder(self.tokenizer.vocab_size, text_width, text_layers, n_head, max_words)
        self.null = nn.Parameter(torch.randn(1, 1, text_width) * 0.02)         # the null caption's embedding
        self.net = LatentDenoiser(latent_channels, image_size // 4, width, depth, n_head, text_width)
        self.noise_schedule = NoiseSchedule(make_betas(schedule, timesteps))

    @property
    def device(self) -> torch.device:
        return self.null.device

    # ---------------------------------------------------------------- text
    def tokenize(self, prompts) -> torch.Tensor:
        """A list of captions -> (B, T) int64; an empty prompt or an unknown word is an error naming it."""
        if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)) or not prompts:
            raise ValueError(f"prompts must be a non-empty list of captions, got {prompts!r}")
        return self.tokenizer.batch(list(prompts), self.max_words).to(self.device)

    def context(self, tokens: torch.Tensor | None, n: int, drop: torch.Tensor | None = None):
        """Caption embeddings (n, T, D) and keep (n, T); tokens None, or rows where drop (n,) is True, get
        the null caption (one learned vector, the rest masked)."""
        T = 1 if tokens is None else tokens.shape[1]
        null_ctx = F.pad(self.null.expand(n, 1, -1), (0, 0, 0, T - 1))        # (n, T, D)
        null_keep = torch.zeros(n, T, dtype=torch.bool, device=self.device)
        null_keep[:, 0] = True
        if tokens is None:
            return null_ctx, null_keep
        ctx, keep = self.text(tokens)
        if drop is None:
            return ctx, keep
        return torch.where(drop[:, None, None], null_ctx, ctx), torch.where(drop[:, None], null_keep, keep)

    # ---------------------------------------------------------------- training
    def ae_loss(self, x: torch.Tensor) -> torch.Tensor:
        return self.ae.loss(x)

    def loss(self, x0: torch.Tensor, tokens: torch.Tensor, z0: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """v-prediction MSE in latent space. x0 (B, C, S, S) images (or z0, their latents, precomputed)."""
        if z0 is None:
            with torch.no_grad():
                z0 = self.ae.encode(x0)                                        # (B, c, h, w), AE frozen
        B, dev = z0.shape[0], z0.device
        t = randint(0, self.timesteps, (B,), generator=generator, device=dev)
        noise = randn(z0.shape, generator=generator, device=dev)
        drop = rand(B, generator=generator, device=dev) < self.p_uncond
        z_t = q_sample(z0, t, noise, self.noise_schedule.abar)
        a = _per_example(self.noise_schedule.abar, t, z0)
        target = a.sqrt() * noise - (1 - a).sqrt() * z0                         # v
        return F.mse_loss(self.net(z_t, t, *self.context(tokens, B, drop)), target)

    # ---------------------------------------------------------------- sampling
    def predict(self, z_t: torch.Tensor, t: int, tokens: torch.Tensor | None, guidance: float):
        """(eps, z0_hat) at step t, guided: v = v_null + s (v_text - v_null) (linear, so eps alike)."""
        n = z_t.shape[0]
        tt = torch.full((n,), t, dtype=torch.long, device=z_t.device)
        if tokens is None or guidance == 0:
            v = self.net(z_t, tt, *self.context(None, n))
        elif guidance == 1:
            v = self.net(z_t, tt, *self.context(tokens, n))
        else:
            drop = torch.arange(2 * n, device=z_t.device) >= n                   # second half: null caption
            both = self.net(torch.cat([z_t, z_t]), torch.cat([tt, tt]),
                            *self.context(torch.cat([tokens, tokens]), 2 * n, drop))
            v = guided_eps(*both.chunk(2), guidance)
        s = self.noise_schedule
        return s.sqrt_one_minus_abar[t] * z_t + s.sqrt_abar[t] * v, s.sqrt_abar[t] * z_t - s.sqrt_one_minus_abar[t] * v

    @eval_mode
    def sample(self, n: int, *, prompts=None, guidance: float = 3.0, steps: int = 50, eta: float = 0.0,
               generator: torch.Generator | None = None, labels=None, return_latents: bool = False):
        """n images (n, C, S, S) in [0, 1] drawn with DDIM (`steps` steps, eta 0: deterministic given the noise).

        prompts: one caption (str, used for all n) or a list of n captions; None: unconditional.
        guidance: the classifier-free guidance scale s >= 0 (0 unconditional, 1 conditional, > 1 guided).
        labels: not used by this family (its conditioning is text); passing any is an error.
        """
        check_n(n)
        if labels is not None:
            raise ValueError("this text-to-image model is conditioned by prompts=..., not labels (it is unconditional "
                             "in labels): pass prompts=[...] instead")
        if not (isinstance(guidance, (int, float)) and guidance >= 0):
            raise ValueError(f"guidance must be a number >= 0, got {guidance!r}")
        if isinstance(prompts, str):
            prompts = [prompts] * n
        if prompts is not None and len(prompts) != n:
            raise ValueError(f"give one prompt or n = {n} prompts, got {len(prompts)}")
        tokens = None if prompts is None else self.tokenize(prompts)
        ts = ddim_timesteps(self.timesteps, steps)
        z = randn((n, *self.latent_shape), generator=generator, device=self.device)
        for i, t in enumerate(ts):
            eps, z0 = self.predict(z, t, tokens, guidance)
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            noise = randn(z.shape, generator=generator, device=self.device) if eta > 0 else None
            z = ddim_step(z, t, t_prev, eps, self.noise_schedule, eta=eta, noise=noise, clip=self.clip, x0=z0)
        images = self.ae.decode(z)
        return (images, z) if return_latents else images
