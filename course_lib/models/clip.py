"""CLIP in miniature: an image encoder and a text encoder trained to agree (Radford et al. 2021).

Both encoders end in a linear projection to the same `embed_dim` and an L2 normalisation, so the
similarity of an image and a caption is a cosine in [-1, 1]. For a batch of B matching pairs the
logits are s * I T^T (B, B), with a learned scale s = 1 / temperature, and the loss is the symmetric
InfoNCE: cross-entropy of each image against all B captions (the right one is on the diagonal) plus
the same for each caption against all images, halved. s is learned as log s (a scale must stay
positive, and steps in log s are relative) and clamped at 100, as CLIP does, so the logits cannot
grow without bound on an easy batch.

Zero-shot classification scores an image against one caption per class ("a seven", "a green circle")
and picks the highest. A class with several captions scores the logsumexp of theirs, i.e. the sum of
their probabilities (CLIP averages the embeddings instead; here the captions name different positions and
sizes, and their average embedding fits none of them: 36% against 92% in a trial run).

The text encoder is a transformer without the causal mask: a caption is read whole, each word seeing
all the others. It reuses course_lib.models.gpt's MLP; gpt's attention is written for generation (its
triangle mask is fixed inside, and Block.forward takes a KV cache, not a mask), so this file has a
short attention that takes a padding mask instead: padding positions are never attended to.

    model = CLIP.from_config({"words": tok.words, "image_channels": 3, "image_size": 16})
    loss = model.loss(images, model.tokenize(captions))          # nats per pair
    pred = model.classify(images, ["a red circle", "a blue square"])   # (N,) index of the best caption
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.gpt import MLP, GPTConfig
from course_lib.models.inputs import DataclassConfigured, check_batch
from course_lib.tokenizers import WordTokenizer


@dataclass
class CLIPConfig:
    words: list = field(default_factory=list)   # the text vocabulary (WordTokenizer(words)); kept for checkpoints
    image_channels: int = 1       # 1 (grey) or 3 (RGB)
    image_size: int = 28          # square images, divisible by 4
    width: int = 32               # conv channels of the first stage (the second has twice as many)
    text_width: int = 64          # the text transformer's residual width
    n_layer: int = 2              # text transformer blocks
    n_head: int = 4
    max_words: int = 24           # longest caption (learned position embeddings)
    embed_dim: int = 64           # the shared image-text space
    init_temperature: float = 0.07  # CLIP's start: logit scale 1 / 0.07 ~ 14.3
    max_logit_scale: float = 100.0

    def __post_init__(self):
        self.words = list(WordTokenizer(self.words).words)          # validates and sorts
        for name in ("image_channels", "image_size", "width", "text_width", "n_layer", "n_head",
                     "max_words", "embed_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two 2x poolings), got {self.image_size}")
        if self.text_width % self.n_head:
            raise ValueError(f"text_width ({self.text_width}) must be divisible by n_head ({self.n_head})")
        if not (self.max_logit_scale > 1 and 1 / self.max_logit_scale <= self.init_temperature <= 1):
            raise ValueError(f"need max_logit_scale > 1 and init_temperature in [1 / max_logit_scale, 1], got "
                             f"{self.max_logit_scale} and {self.init_temperature}")


def infonce(logits: torch.Tensor, groups: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE (nats per pair) of logits (B, B) whose diagonal holds the matching pairs.

    groups (B,) int64, optional: pairs with equal ids are all positives (two images of "a red circle"
    in one batch are not negatives of each other's caption); the target is then uniform over them.
    """
    B = logits.shape[0]
    if logits.dim() != 2 or logits.shape[1] != B:
        raise ValueError(f"logits must be square (B, B), got {tuple(logits.shape)}")
    if groups is None:
        target = torch.eye(B, device=logits.device)                             # (B, B)
    else:
        target = (groups[:, None] == groups[None, :]).float()                   # (B, B), symmetric
        target = target / target.sum(1, keepdim=True)                           # rows sum to 1
    image_to_text = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()     # each image picks its caption
    text_to_image = -(target.T * F.log_softmax(logits.T, dim=1)).sum(1).mean()  # each caption picks its image
    return (image_to_text + text_to_image) / 2


def recall_at_k(scores: torch.Tensor, relevant: torch.Tensor, k: int) -> float:
    """Fraction of queries (rows of scores (Q, N)) with a relevant item (relevant (Q, N) bool) in their top k."""
    if scores.shape != relevant.shape:
        raise ValueError(f"scores {tuple(scores.shape)} and relevant {tuple(relevant.shape)} must have one shape")
    top = scores.topk(min(k, scores.shape[1]), dim=1).indices                  # (Q, k)
    return relevant.gather(1, top).any(1).float().mean().item()


class SelfAttention(nn.Module):
    """Multi-head attention over the whole caption (no causal mask); padding keys are masked out."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x, keep):                      # x (B, T, C), keep (B, T) bool: True for a real word
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)                                       # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])  # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))                        # (B, T, C)


class EncoderBlock(nn.Module):
    """gpt.Block's pre-norm layout with a non-causal, padding-masked attention."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.attn, self.mlp = SelfAttention(cfg), MLP(cfg)

    def forward(self, x, keep):
        x = x + self.attn(self.ln1(x), keep)
        return x + self.mlp(self.ln2(x))


def _conv_stage(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 convolutions, then halve the resolution."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.GELU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.GELU(), nn.AvgPool2d(2))


class CLIP(DataclassConfigured, nn.Module):
    config_class = CLIPConfig  # the protocol: from_config, config_dict, device

    def __init__(self, cfg: CLIPConfig):
        super().__init__()
        self.config, self.tokenizer = cfg, WordTokenizer(cfg.words)
        w, s = cfg.width, cfg.image_size // 4
        # Flatten rather than average-pool: where a shape is ("at the top") must survive to the embedding.
        self.image_encoder = nn.Sequential(_conv_stage(cfg.image_channels, w), _conv_stage(w, 2 * w),
                                           nn.Flatten(), nn.LayerNorm(2 * w * s * s))
        self.image_proj = nn.Linear(2 * w * s * s, cfg.embed_dim)
        tcfg = GPTConfig(vocab_size=self.tokenizer.vocab_size, block_size=cfg.max_words, n_layer=cfg.n_layer,
                         n_head=cfg.n_head, n_embd=cfg.text_width)
        self.tok_emb = nn.Embedding(tcfg.vocab_size, tcfg.n_embd)
        self.pos_emb = nn.Embedding(tcfg.block_size, tcfg.n_embd)
        self.blocks = nn.ModuleList(EncoderBlock(tcfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(tcfg.n_embd)
        self.text_proj = nn.Linear(tcfg.n_embd, cfg.embed_dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / cfg.init_temperature)))

    # ---- encoders -------------------------------------------------------------------------------
    def tokenize(self, captions) -> torch.Tensor:
        """list of captions -> (B, T) int64 ids on the model's device (unknown words, empty text: errors)."""
        return self.tokenizer.batch(captions, self.config.max_words).to(self.device)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, C, H, W) float in [0, 1] -> unit vectors (B, embed_dim)."""
        cfg = self.config
        check_batch(images, (cfg.image_channels, cfg.image_size, cfg.image_size), "images")
        h = self.image_encoder(images.to(self.device) * 2 - 1)                  # (B, 2w * H/4 * W/4)
        return F.normalize(self.image_proj(h), dim=-1)                          # (B, E)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64 (0 = padding, T <= max_words) -> unit vectors (B, embed_dim)."""
        V, T_max = self.tokenizer.vocab_size, self.config.max_words
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype != torch.long \
                or not 0 < tokens.shape[1] <= T_max:
            got = f"{tuple(tokens.shape)} {tokens.dtype}" if isinstance(tokens, torch.Tensor) else type(tokens).__name__
            raise ValueError(f"tokens must be int64 of shape (B, T) with 1 <= T <= {T_max}, got {got}")
        if tokens.min() < 0 or tokens.max() >= V:
            raise ValueError(f"token ids must be in [0, {V - 1}], got {tokens.min().item()}..{tokens.max().item()}")
        keep = tokens.to(self.device) != 0                                      # (B, T) real words
        if not keep.any(1).all():
            raise ValueError("a caption is empty (all padding): every row of tokens needs a word")
        pos = torch.arange(tokens.shape[1], device=self.device)
        x = self.tok_emb(tokens.to(self.device)) + self.pos_emb(pos)             # (B, T, C)
        for block in self.blocks:
            x = block(x, keep)
        x = self.ln_f(x)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)       # (B, C) mean of real words
        return F.normalize(self.text_proj(pooled), dim=-1)                      # (B, E)

    # ---- training -------------------------------------------------------------------------------
    def logit_scale(self) -> torch.Tensor:
        """s = exp(log s), clamped at max_logit_scale (the gradient stops at the clamp, as in CLIP)."""
        return self.log_scale.clamp(max=math.log(self.config.max_logit_scale)).exp()

    def logits(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """(Bi, Bt): scaled cosine of every image with every caption."""
        return self.logit_scale() * self.encode_image(images) @ self.encode_text(tokens).T

    def loss(self, images, tokens, groups: torch.Tensor | None = None) -> torch.Tensor:
        """Symmetric InfoNCE of a batch of matching (image, caption) pairs, nats per pair."""
        if images.shape[0] != tokens.shape[0]:
            raise ValueError(f"need as many captions as images, got {tokens.shape[0]} and {images.shape[0]}")
        return infonce(self.logits(images, tokens), None if groups is None else groups.to(self.device))

    # ---- use ------------------------------------------------------------------------------------
    @torch.no_grad()
    def embed_images(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Unit embeddings (N, E) of many images, in eval mode and in batches."""
        was = self.training
        self.eval()
        out = torch.cat([self.encode_image(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
        self.train(was)
        return out

    @torch.no_grad()
    def embed_captions(self, captions) -> torch.Tensor:
        """Unit embeddings (K, E) of K captions, in eval mode."""
        if isinstance(captions, str) or not len(captions) or not all(isinstance(c, str) for c in captions):
            raise ValueError("captions must be a non-empty list of strings")
        was = self.training
        self.eval()
        out = self.encode_text(self.tokenize(captions))
        self.train(was)
        return out

    @torch.no_grad()
    def classify(self, images: torch.Tensor, captions) -> torch.Tensor:
        """Zero-shot labels (N,) int64: the index of the caption that fits each image best.

        A class may be a list of captions ("a red circle at the top", "a red circle on the left", ...):
        its score is then the logsumexp of theirs, so its probability under the softmax over all captions
        is the sum of its captions' (the class is marginalised over what its captions add)."""
        if isinstance(captions, str) or not len(captions):
            raise ValueError("captions must be a non-empty list of captions (or of lists of captions)")
        lists = [[c] if isinstance(c, str) else list(c) for c in captions]
        owner = torch.tensor([i for i, c in enumerate(lists) for _ in c], device=self.device)   # (K,)
        logits = self.logit_scale() * self.embed_images(images) @ self.embed_captions(sum(lists, [])).T  # (N, K)
        scores = torch.stack([logits[:, owner == i].logsumexp(1) for i in range(len(lists))], 1)  # (N, C)
        return scores.argmax(1)
