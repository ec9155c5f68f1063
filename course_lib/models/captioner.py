"""Image -> text: a transformer decoder that writes a caption while looking at the image.

The image encoder is a small conv net whose last feature map is kept as a grid of S = (H/4)(W/4)
vectors (one per region, with a learned position embedding each), not pooled: "at the top" must
survive. The decoder is GPT's pre-norm block with one more sub-layer between attention and MLP:
cross-attention, where the queries come from the words and the keys and values from the image grid,

    CrossAttn(x, m) = softmax(Q K^T / sqrt(hs)) V,  Q = x Wq (B, nh, T, hs), K = m Wk, V = m Wv (B, nh, S, hs)

so every word position reads the whole image (no mask: the image is known in full from the start),
while its causal self-attention sees only earlier words. Training is teacher forcing: the input is
<start> w1 .. wT, the target w1 .. wT <end>, and the loss is the next-word cross-entropy in nats per
word. Id 0 (the tokenizer's padding) doubles as <end> in the output; <start> is one extra input id.

    model = Captioner.from_config({"words": data.words(), "image_channels": 3, "image_size": 16})
    loss = model.loss(images, model.tokenize(captions))
    texts = model.caption(images)                                 # greedy; greedy=False samples
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.clip import _conv_stage     # two 3x3 convolutions, then halve the resolution
from course_lib.models.gpt import MLP, GPTConfig
from course_lib.models.inputs import DataclassConfigured, check_batch
from course_lib.tokenizers import WordTokenizer


@dataclass
class CaptionerConfig:
    words: list = field(default_factory=list)   # the caption vocabulary (WordTokenizer(words))
    image_channels: int = 1
    image_size: int = 28          # square, divisible by 4
    width: int = 32               # conv channels of the first stage (the second has twice as many)
    n_embd: int = 64              # the decoder's residual width
    n_layer: int = 2
    n_head: int = 4
    max_words: int = 24           # longest caption, <end> included
    split_colour: bool = False    # form from the brightest channel, colour as separate tokens (see encode)

    def __post_init__(self):
        self.words = list(WordTokenizer(self.words).words)
        for name in ("image_channels", "image_size", "width", "n_embd", "n_layer", "n_head", "max_words"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two 2x poolings), got {self.image_size}")
        if not isinstance(self.split_colour, bool):
            raise ValueError(f"split_colour must be True or False, got {self.split_colour!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")


class CrossAttention(nn.Module):
    """Words (queries) attend to image regions (keys, values); written out, not through SDPA."""

    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.q = nn.Linear(n_embd, n_embd)
        self.kv = nn.Linear(n_embd, 2 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.last_weights = None                   # (B, nh, T, S) of the last call, for plots and tests

    def forward(self, x, memory):                  # x (B, T, C) words, memory (B, S, C) image regions
        B, T, C = x.shape
        S, nh, hs = memory.shape[1], self.n_head, C // self.n_head
        q = self.q(x).view(B, T, nh, hs).transpose(1, 2)                        # (B, nh, T, hs)
        k, v = self.kv(memory).split(C, dim=2)                                  # 2 x (B, S, C)
        k = k.view(B, S, nh, hs).transpose(1, 2)                                # (B, nh, S, hs)
        v = v.view(B, S, nh, hs).transpose(1, 2)                                # (B, nh, S, hs)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)                         # (B, nh, T, S)
        att = att.softmax(dim=-1)                                               # each word: weights over regions
        self.last_weights = att.detach()
        y = att @ v                                                             # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))                    # (B, T, C)


class CausalSelfAttention(nn.Module):
    """Each word sees itself and the words before it (the triangle mask)."""

    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):                          # x (B, T, C)
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)             # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))                    # (B, T, C)


class DecoderBlock(nn.Module):
    """Pre-norm: causal self-attention, then cross-attention to the image, then the MLP."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1, self.ln2, self.ln3 = (nn.LayerNorm(cfg.n_embd) for _ in range(3))
        self.attn = CausalSelfAttention(cfg.n_embd, cfg.n_head)
        self.cross = CrossAttention(cfg.n_embd, cfg.n_head)
        self.mlp = MLP(cfg)

    def forward(self, x, memory):
        x = x + self.attn(self.ln1(x))
        x = x + self.cross(self.ln2(x), memory)
        return x + self.mlp(self.ln3(x))


class Captioner(DataclassConfigured, nn.Module):
    config_class = CaptionerConfig  # the protocol: from_config, config_dict, device

    def __init__(self, cfg: CaptionerConfig):
        super().__init__()
        self.config, self.tokenizer = cfg, WordTokenizer(cfg.words)
        V, C, w = self.tokenizer.vocab_size, cfg.n_embd, cfg.width
        self.start_id = V                                             # <start>: an input id only
        S = (cfg.image_size // 4) ** 2
        self.encoder = nn.Sequential(_conv_stage(1 if cfg.split_colour else cfg.image_channels, w),
                                     _conv_stage(w, 2 * w))
        self.region_proj = nn.Linear(2 * w, C)
        self.region_pos = nn.Parameter(torch.zeros(1, S, C))
        if cfg.split_colour:                                          # per-pixel colour, max over 4x4 regions
            self.colour = nn.Sequential(nn.Conv2d(cfg.image_channels, 2 * w, 1), nn.GELU(),
                                        nn.Conv2d(2 * w, 2 * w, 1), nn.GELU(), nn.MaxPool2d(4))
            self.colour_proj = nn.Linear(2 * w, C)
            self.colour_pos = nn.Parameter(torch.zeros(1, S, C))
        gcfg = GPTConfig(vocab_size=V + 1, block_size=cfg.max_words, n_layer=cfg.n_layer, n_head=cfg.n_head,
                         n_embd=C)
        self.tok_emb = nn.Embedding(V + 1, C)
        self.pos_emb = nn.Embedding(cfg.max_words, C)
        self.blocks = nn.ModuleList(DecoderBlock(gcfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(C)
        self.head = nn.Linear(C, V)                                   # next word; id 0 = <end>

    def tokenize(self, captions) -> torch.Tensor:
        """list of captions -> (B, T) int64, 0-padded; at most max_words - 1 words (room for <end>)."""
        tokens = self.tokenizer.batch(captions)
        if tokens.shape[1] >= self.config.max_words:
            raise ValueError(f"captions may have at most {self.config.max_words - 1} words, got {tokens.shape[1]}")
        return tokens.to(self.device)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, C, H, W) float in [0, 1] -> region features (B, S, n_embd), S = (H/4)(W/4).

        split_colour: the conv net sees only the brightest channel (form, colour-blind) and the colour
        of each region becomes S more tokens (B, 2S, n_embd). A grid that mixes both learns "green goes
        with squares" from the training pairs; kept apart, a held-out green circle is two known things."""
        cfg = self.config
        check_batch(images, (cfg.image_channels, cfg.image_size, cfg.image_size), "images")
        x = images.to(self.device) * 2 - 1
        h = self.encoder(x.amax(1, keepdim=True) if cfg.split_colour else x)     # (B, 2w, H/4, W/4)
        h = h.flatten(2).transpose(1, 2)                                        # (B, S, 2w)
        memory = self.region_proj(h) + self.region_pos                          # (B, S, C)
        if not cfg.split_colour:
            return memory
        c = self.colour(x).flatten(2).transpose(1, 2)                           # (B, S, 2w)
        return torch.cat([memory, self.colour_proj(c) + self.colour_pos], 1)   # (B, 2S, C)

    def logits(self, images: torch.Tensor, inputs: torch.Tensor, memory=None) -> torch.Tensor:
        """inputs (B, T) ids starting with <start> -> next-word logits (B, T, V)."""
        T = inputs.shape[1]
        if inputs.dim() != 2 or not 0 < T <= self.config.max_words:
            raise ValueError(f"inputs must be (B, T) with 1 <= T <= {self.config.max_words}, got {tuple(inputs.shape)}")
        memory = self.encode(images) if memory is None else memory               # (B, S, C)
        if memory.shape[0] != inputs.shape[0]:
            raise ValueError(f"need one caption per image, got {inputs.shape[0]} captions and {memory.shape[0]} images")
        x = self.tok_emb(inputs) + self.pos_emb(torch.arange(T, device=self.device))  # (B, T, C)
        for block in self.blocks:
            x = block(x, memory)
        return self.head(self.ln_f(x))                                          # (B, T, V)

    def loss(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced next-word cross-entropy, nats per word (<end> counted), of 0-padded tokens (B, T)."""
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype != torch.long:
            raise ValueError(f"tokens must be int64 (B, T), got {getattr(tokens, 'shape', type(tokens).__name__)}")
        B = tokens.shape[0]
        tokens = tokens.to(self.device)
        start = torch.full((B, 1), self.start_id, device=self.device)
        inputs = torch.cat([start, tokens], 1)                                  # (B, T+1) <start> w1..wT
        target = torch.cat([tokens, torch.zeros_like(start)], 1)                # (B, T+1) w1..wT <end>
        length = (tokens != 0).sum(1, keepdim=True)                             # (B, 1) words per caption
        after_end = torch.arange(target.shape[1], device=self.device)[None] > length   # (B, T+1)
        target[after_end] = -100                                                # not scored
        logits = self.logits(images, inputs)                                    # (B, T+1, V)
        return F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=-100)

    @torch.no_grad()
    def caption(self, images: torch.Tensor, *, greedy: bool = True, temperature: float = 1.0,
                generator: torch.Generator | None = None, max_len: int | None = None) -> list[str]:
        """One caption per image: the likeliest word each step (greedy) or a draw from softmax(logits / T)."""
        max_len = self.config.max_words if max_len is None else max_len
        if isinstance(max_len, bool) or not isinstance(max_len, int) or not 1 <= max_len <= self.config.max_words:
            raise ValueError(f"max_len must be an int in [1, {self.config.max_words}], got {max_len!r}")
        if not greedy and not temperature > 0:
            raise ValueError(f"temperature must be > 0 when sampling, got {temperature!r}")
        was = self.training
        self.eval()
        memory = self.encode(images)                                            # (B, S, C), once
        B = memory.shape[0]
        seq = torch.full((B, 1), self.start_id, device=self.device)             # (B, 1)
        done = torch.zeros(B, dtype=torch.bool, device=self.device)
        for _ in range(max_len):
            last = self.logits(images, seq, memory)[:, -1]                      # (B, V)
            if greedy:
                nxt = last.argmax(-1)
            else:
                probs = (last / temperature).softmax(-1).to("cpu" if generator is None else generator.device)
                nxt = torch.multinomial(probs, 1, generator=generator)[:, 0].to(self.device)
            nxt = nxt.masked_fill(done, 0)                                      # finished captions stay ended
            done |= nxt == 0
            seq = torch.cat([seq, nxt[:, None]], 1)
            if done.all():
                break
        self.train(was)
        return [self.tokenizer.decode([i for i in row[1:].tolist() if i != 0] or [0]) for row in seq]
