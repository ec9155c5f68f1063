"""The model families of the course: the mathematics only, one short file (or small package) per family.

bigram and char_mlp (notebooks 01-02), vae (03, with its ex-post prior in `latent_mixture`), gan (04),
gpt (05-06; the family "pixels" is the same GPT reading an 8x8 digit as 64 grey-level tokens, the capstone's
autoregressive image model, glue in recipes.pixels), diffusion and flow matching (07), latent_diffusion (08,
the family "t2i": text-to-image, conditioned by `prompts` rather than labels); what they share at the door (input checks, random draws on any device, the
eval-mode wrapper of `sample`, the config round trip) in `inputs`. Tuned defaults, training on a step or
time budget, training steps (GANTrainer) and the `genai-course train/sample` adapters of a family live in
`course_lib.recipes.<family>`, never here: models import neither recipes nor the CLI.

The family protocol, which every family in FAMILIES follows (tests/test_protocol.py runs it on each):
- a config: `Model.from_config(cfg)` builds the model from a plain dict and `model.config_dict()` returns
  that dict; checkpoints store it beside the state_dict and load through
  `course_lib.checkpoints.load(path, Model.from_config)` (the bigram, a table counted by `fit`, has a
  config but no weights to checkpoint);
- `model.sample(n, *, labels=None, generator=None, ...)`: n samples drawn in eval mode (the previous
  train/eval mode is restored afterwards) on the model's device; a generator on another device is allowed
  (the draws go through `inputs.randn`/`multinomial`), and the same seed gives the same samples. GPT's
  `sample` starts from a single start token; `generate` continues a prompt;
- one name per likelihood, `nll`, with its unit: nats per example, a (B,) tensor, for images (the VAE's
  importance-weighted bound, `nll(x, k=...)`); mean nats per token (per character) over the given text,
  a float, for the language models (bigram, char_mlp, gpt). Bits per dimension through course_lib.metrics.
  A GAN has no likelihood, and the diffusion models here report none (their variational bound is not
  computed), so neither has `nll`;
- conditioning by `labels`, int64 of shape (n,), everywhere; an unconditional model refuses labels with
  a clear error instead of ignoring them;
- `genai-course train FAMILY` and `genai-course sample CKPT` through `course_lib.recipes.<family>`.

`tabular_vae` (notebook 11: mixed tables, one likelihood head per column type) keeps the config, `sample`
(encoded rows) and `labels`-refusal parts but is not in FAMILIES: it is trained and decoded to tables through
course_lib.tabular (fit(table), sample(n, seed) -> DataFrame), with no `genai-course train` adapter yet.

The image-text families of notebook 08 in IMAGE_TEXT, clip (contrastive embeddings) and captioner
(image -> caption), generate nothing from noise, so they have neither `sample` nor `labels` nor `nll`; they
keep the rest: from_config/config_dict (unknown keys named), checkpoints, and `genai-course train`. The
captioner's draw is `caption(images, greedy=False, generator=...)`.
"""
from __future__ import annotations

import importlib

FAMILIES = {  # name -> (module, class): every family the protocol test runs; the modules load on first use
    "bigram": ("course_lib.models.bigram", "BigramModel"),
    "char_mlp": ("course_lib.models.char_mlp", "CharMLP"),
    "vae": ("course_lib.models.vae", "VAE"),
    "conditional_vae": ("course_lib.models.vae", "ConditionalVAE"),
    "gan": ("course_lib.models.gan", "GAN"),
    "gpt": ("course_lib.models.gpt", "GPT"),
    "data_to_text": ("course_lib.models.gpt", "GPT"),                 # the GPT, prompted by a record (recipes)
    "diffusion": ("course_lib.models.diffusion", "Diffusion"),
    "flow": ("course_lib.models.diffusion", "FlowMatching"),          # flow matching, the diffusion networks
    "pixels": ("course_lib.models.gpt", "GPT"),                       # the GPT over 8x8 digits' 64 grey levels
    "t2i": ("course_lib.models.latent_diffusion", "LatentDiffusion"),   # conditioned by prompts, not labels
    "clip": ("course_lib.models.clip", "CLIP"),                        # image-text: embeds, draws nothing
    "captioner": ("course_lib.models.captioner", "Captioner"),         # image -> text: `caption(images)`
}
IMAGE_TEXT = ("clip", "captioner")  # follow the config, checkpoint and CLI parts only (see the docstring)


def family(name: str) -> type:
    """The model class of a family by name, e.g. family("vae").from_config(checkpoint_config)."""
    if name not in FAMILIES:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")
    module, cls = FAMILIES[name]
    return getattr(importlib.import_module(module), cls)
