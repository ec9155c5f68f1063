"""A small zoo of pretrained course models, so later notebooks start from decent models offline.

    from course_lib import pretrained
    pretrained.available()                          # a table: name, family, dataset, size, figure, description
    gpt = pretrained.load("shakespeare-gpt")        # eval mode, on config.get_device(); SHA-256 checked first
    tok = pretrained.tokenizer("shakespeare-gpt")   # the tokenizer it was trained with
    vae = pretrained.load("digits-vae"); mix = pretrained.latent_mixture("digits-vae")
    pretrained.info("digits-gan").metrics           # what it scored, and how that was measured
    clip = pretrained.load("shapes-clip")           # also shapes-t2i, shapes-captioner (notebook 08)
    flow = pretrained.load("digits-flow")           # flow matching on digits-diffusion's network (notebook 07)
    model = pretrained.load_or_train("digits-flow", train_tiny)  # the zoo's; COURSE_FAST=1: train_tiny() live
    run = pretrained.load_d2t_run("stocks-reports")  # data-to-text as a recipes.data_to_text.Run for its `generate`
    gpt = pretrained.load("smiles-gpt"); tok = pretrained.tokenizer("smiles-gpt")   # molecules (notebook 11)
    gpt = pretrained.load("returns-gpt")            # quantised returns (notebook 12); its quantiser:
    q = course_lib.recipes.returns.Quantiser.from_meta(pretrained.checkpoint("returns-gpt")["meta"])
    gpt = pretrained.load("arith-scratchpad")       # also arith-plain, arith-reversed, arith-practice (notebook 13)
    gpt = pretrained.load("digits-pixels")          # the pixel GPT (notebook 16): recipes.pixels.sample(gpt, 16)

The weights ship as float16 inside course checkpoints (course_lib.checkpoints.read works on them) with a
manifest (weights/manifest.json) of SHA-256s and recorded figures; `python scripts/train_pretrained.py`
retrains every entry on a fixed step budget and rewrites both. Later modules add their own models with
`register(...)`, shipped or (too big to ship) downloaded once by URL and checked against a SHA-256.
"""
from .builders import BUILDERS, register_builder
from .evaluate import EVALUATORS, evaluate, evaluate_model
from .evaluate_multimodal import MULTIMODAL
from .evaluate_d2t import DATA_TO_TEXT
from .evaluate_smiles import SMILES
from .evaluate_returns import RETURNS
from .evaluate_arith import ARITH
from .loading import (PretrainedError, checkpoint, latent_mixture, load, load_d2t_run, load_or_train, tokenizer,
                      weights_file)
from .registry import Catalogue, Entry, UnknownModelError, available, info, names, register, unregister

EVALUATORS.update(MULTIMODAL)                      # clip, t2i, captioner (notebook 08)
EVALUATORS.update(DATA_TO_TEXT)                    # stocks-reports (notebook 10)
EVALUATORS.update(SMILES)                          # smiles-gpt: family gpt on molecules (notebook 11)
EVALUATORS.update(RETURNS)                         # returns-gpt: family gpt on stock-returns (notebook 12)
EVALUATORS.update(ARITH)                           # arith-*: family gpt on generated sums (notebook 13)

__all__ = ["available", "load", "load_or_train", "load_d2t_run", "tokenizer", "latent_mixture", "checkpoint", "info", "names", "register",
           "unregister", "register_builder", "evaluate", "evaluate_model", "Entry", "Catalogue",
           "PretrainedError", "UnknownModelError", "BUILDERS", "EVALUATORS", "weights_file"]
