"""Training recipe for a tune GPT: the course GPT on Essen ABC text, on a step or time budget.

Defaults: 3 layers, 4 heads, 96 wide, context 128 characters (a median tune is about 140 characters with
its header), batch 16, AdamW 2e-3 with warm-up and a cosine decay over the budget (as recipes.gpt).
Chosen by two 150 s trials (1 thread, seed 0, 150 held-out prompts, T=1): against 4 layers x 128 wide
batch 16 (1,222 steps, train loss 1.08, bar share 46%) this size ran 2,251 steps to train loss 1.00, bar
share 54%; 4 x 128 with batch 32 (the first benchmark run) reached 512 steps, loss 1.15, bar share 50%.

tokenizer="note" trains on note-level tokens (course_lib.music.tokens: one token per note with its length,
bar line, header field) instead of characters; the same sizes, so a context of 128 tokens holds a whole
median Essen tune (72 tokens with its header, against 142 characters) with room to spare. Results of both:
benchmarks/results/creative_music.json (150 s each: bar share 49% characters, 54% notes, real tunes 96%).
Neither model has learnt to fill a bar in 150 s: in the tunes of a 90 s note-token run (80 prompts), most
wrong bars lay within one line, too long and too short alike, not only where Essen breaks a phrase at a
newline inside a bar (or lets a newline end a full bar with no bar line).
"""
from __future__ import annotations

import torch

from course_lib.models.gpt import GPT, GPTConfig

DEFAULTS = dict(n_layer=3, n_head=4, n_embd=96, block_size=128, batch_size=16, lr=2e-3, warmup=100,
                min_lr_frac=0.1, dropout=0.0)


TOKENIZERS = ("char", "note")


def train_tune_gpt(tunes, *, steps: int | None = None, seconds: float | None = None, seed: int = 0,
                   tokenizer: str = "char", progress: bool = False, **options):
    """Train a GPT on the tunes' text -> (model in eval mode, tokenizer, fit History).

    tokenizer: "char" (characters) or "note" (notes with their lengths). options override DEFAULTS (unknown
    names are a TypeError). Either budget may be None, not both."""
    from course_lib import config
    from course_lib.music.generate import abc_tokenizer, corpus_text, note_tokenizer
    from course_lib.train import CosineSchedule, fit, random_windows

    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(DEFAULTS)}")
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tokenizer!r}: expected one of {', '.join(map(repr, TOKENIZERS))}")
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps, seconds or both")
    opt = {**DEFAULTS, **options}
    gen = config.seed_everything(seed)
    tok = abc_tokenizer() if tokenizer == "char" else note_tokenizer(tunes)
    ids = torch.tensor(tok.encode(corpus_text(tunes)), dtype=torch.long)                 # (N,)
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=opt["block_size"], n_layer=opt["n_layer"],
                    n_head=opt["n_head"], n_embd=opt["n_embd"], dropout=opt["dropout"])
    model = GPT(cfg)
    optimizer = model.configure_optimizer(opt["lr"], weight_decay=0.1)
    schedule = CosineSchedule(optimizer, opt["lr"], steps=steps, seconds=seconds, warmup=opt["warmup"],
                              floor=opt["min_lr_frac"])
    history = fit(model, lambda m, b: m(*b)[1], random_windows(ids, cfg.block_size, opt["batch_size"], gen),
                  optimizer=optimizer, steps=steps, seconds=seconds, grad_clip=1.0, progress=progress,
                  on_step=[schedule])
    return model.eval(), tok, history
