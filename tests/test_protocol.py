"""The family protocol of course_lib.models (its docstring), run against every registered family.

Each case is a tiny model of one family (several for families with a conditional variant); a family in
course_lib.models.FAMILIES without a case fails the first test, so a new family cannot skip the protocol.
The image-text families (models.IMAGE_TEXT: clip, captioner) draw nothing from noise: they run the config,
checkpoint and unknown-key cases, and checkpoints must give them identical outputs instead of samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
import torch

from course_lib import checkpoints, cli
from course_lib.models import FAMILIES, IMAGE_TEXT, family
from course_lib.models.inputs import device_of

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "liam", "noah", "oliver", "elijah"]
CHARS = "." + "".join(sorted(set("".join(WORDS))))


@dataclass
class Case:
    family: str
    config: dict
    num_classes: int = 0
    nll: str | None = None        # the documented unit: "nats/example" (B,) tensor, "nats/token" float
    sample_kw: dict = field(default_factory=dict)

    def build(self):
        model = family(self.family).from_config(dict(self.config))
        if self.family == "bigram":
            model.fit(WORDS, smoothing=1.0)
        return model


CASES = {
    "bigram": Case("bigram", {"chars": CHARS, "boundary": "."}, nll="nats/token"),
    "char_mlp": Case("char_mlp", {"chars": CHARS, "boundary": ".", "context": 3, "n_embd": 4, "n_hidden": 16,
                                  "dropout": 0.5}, nll="nats/token"),
    "vae": Case("vae", {"image_size": 8, "levels": 17, "latent_dim": 4, "hidden": 16, "depth": 1,
                        "likelihood": "categorical", "num_classes": 0, "dropout": 0.5}, nll="nats/example",
                sample_kw={"pixels": "sample"}),
    "conditional_vae": Case("conditional_vae", {"image_size": 8, "levels": 2, "latent_dim": 4, "hidden": 16,
                                                "depth": 1, "likelihood": "bernoulli", "num_classes": 10,
                                                "dropout": 0.0}, num_classes=10, nll="nats/example"),
    "gan": Case("gan", {"data_shape": [2], "latent_dim": 4, "hidden": 16, "depth": 2, "arch": "mlp",
                        "num_classes": 0, "pack": 1, "d_hidden": None, "data_scale": 2.0, "spectral_norm": False,
                        "g_batchnorm": True, "latent_modes": 5}),
    "gan_conditional": Case("gan", {"data_shape": [1, 8, 8], "latent_dim": 8, "hidden": 16, "depth": 3,
                                    "arch": "conv", "num_classes": 10, "pack": 1, "d_hidden": None,
                                    "data_scale": 1.0, "spectral_norm": True, "g_batchnorm": False,
                                    "latent_modes": 0}, num_classes=10),
    "gpt": Case("gpt", {"vocab_size": 11, "block_size": 8, "n_layer": 1, "n_head": 2, "n_embd": 16,
                        "dropout": 0.5, "flash": True, "norm": "layer", "pos": "learned", "mlp": "gelu",
                        "n_kv_head": None}, nll="nats/token", sample_kw={"n_tokens": 6}),
    "data_to_text": Case("data_to_text", {"vocab_size": 11, "block_size": 8, "n_layer": 1, "n_head": 2, "n_embd": 16,
                                          "dropout": 0.0, "flash": True, "norm": "layer", "pos": "learned",
                                          "mlp": "gelu", "n_kv_head": None}, nll="nats/token",
                         sample_kw={"n_tokens": 6}),     # the GPT class, trained on (record, text) pairs
    "pixels": Case("pixels", {"vocab_size": 18, "block_size": 64, "n_layer": 1, "n_head": 2, "n_embd": 16,
                              "dropout": 0.1, "flash": True, "norm": "layer", "pos": "learned", "mlp": "gelu",
                              "n_kv_head": None}, nll="nats/token",
                   sample_kw={"n_tokens": 6, "start": 17}),  # the GPT over grey levels (recipes.pixels)
    "gpt_modern": Case("gpt", {"vocab_size": 11, "block_size": 8, "n_layer": 1, "n_head": 2, "n_embd": 16,
                               "dropout": 0.5, "flash": True, "norm": "rms", "pos": "rope", "mlp": "swiglu",
                               "n_kv_head": 1}, nll="nats/token", sample_kw={"n_tokens": 6}),
    "diffusion": Case("diffusion", {"data_shape": [2], "timesteps": 10, "schedule": "cosine", "arch": "mlp",
                                    "hidden": 16, "depth": 1, "width": 32, "num_classes": 0, "p_uncond": 0.1,
                                    "data_scale": 1.0, "clip": 3.0, "prediction": "eps"},
                      sample_kw={"steps": 4, "sampler": "ddim", "eta": 1.0}),
    "diffusion_conditional": Case("diffusion", {"data_shape": [1, 8, 8], "timesteps": 10, "schedule": "linear",
                                                "arch": "unet", "hidden": 128, "depth": 3, "width": 8,
                                                "num_classes": 10, "p_uncond": 0.1, "data_scale": 1.0, "clip": None,
                                                "prediction": "v"}, num_classes=10),
    "flow": Case("flow", {"data_shape": [2], "arch": "mlp", "hidden": 16, "depth": 1, "width": 32, "num_classes": 0,
                          "p_uncond": 0.1, "data_scale": 1.0}, sample_kw={"steps": 3, "solver": "heun"}),
    "flow_conditional": Case("flow", {"data_shape": [1, 8, 8], "arch": "unet", "hidden": 128, "depth": 3,
                                      "width": 8, "num_classes": 10, "p_uncond": 0.1, "data_scale": 1.0},
                             num_classes=10, sample_kw={"steps": 2}),
    "t2i": Case("t2i", {"words": ["a", "circle", "red"], "image_channels": 1, "image_size": 8, "latent_channels": 2,
                        "ae_width": 4, "width": 16, "depth": 1, "n_head": 2, "text_width": 8, "text_layers": 1,
                        "max_words": 4, "timesteps": 10, "schedule": "cosine", "p_uncond": 0.1, "clip": 3.0},
                sample_kw={"steps": 3, "prompts": "a red circle", "guidance": 2.0}),
    "clip": Case("clip", {"words": ["a", "circle", "red", "square"], "image_channels": 3, "image_size": 8,
                          "width": 4, "text_width": 8, "n_layer": 1, "n_head": 2, "max_words": 5, "embed_dim": 8,
                          "init_temperature": 0.07, "max_logit_scale": 100.0}),
    "captioner": Case("captioner", {"words": ["a", "circle", "red", "square"], "image_channels": 3,
                                    "image_size": 8, "width": 4, "n_embd": 8, "n_layer": 1, "n_head": 2,
                                    "max_words": 5, "split_colour": True}),
}
MODULES = [name for name, case in CASES.items() if case.family != "bigram"]   # the bigram is a counted table
GENERATIVE = [name for name, case in CASES.items() if case.family not in IMAGE_TEXT]
SAMPLING_MODULES = [name for name in MODULES if name in GENERATIVE]


def image_text_output(model, case: Case):
    """What an image-text model gives for fixed inputs: CLIP's logits, the captioner's sampled captions."""
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    if case.family == "clip":
        return model.eval().logits(x, model.tokenize(["a red circle", "a square", "red"]))
    return model.caption(x, greedy=False, generator=torch.Generator().manual_seed(0))


def draw(model, case: Case, n: int = 5, seed: int = 0, **kw):
    labels = torch.arange(n) % case.num_classes if case.num_classes else None
    torch.manual_seed(1234)                # anything drawn from the global RNG by mistake is the same too
    return model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed), **case.sample_kw, **kw)


def same(a, b) -> bool:
    return a == b if isinstance(a, list) else torch.equal(a, b)


def test_every_registered_family_has_a_protocol_case():
    assert {case.family for case in CASES.values()} == set(FAMILIES)


@pytest.mark.parametrize("name", list(CASES))
def test_config_round_trip(name):
    case = CASES[name]
    model = case.build()
    cfg = model.config_dict()
    assert cfg == case.config
    checkpoints._check_plain(cfg, "config")                 # storable in a checkpoint as it is
    again = family(case.family).from_config(cfg)
    assert again.config_dict() == cfg
    assert type(again) is type(model)
    if isinstance(model, torch.nn.Module):
        assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n].family not in ("bigram", "char_mlp")])
def test_from_config_names_an_unknown_key(name):
    case = CASES[name]
    with pytest.raises((ValueError, TypeError), match="widht|unexpected"):
        family(case.family).from_config({**case.config, "widht": 3})


@pytest.mark.parametrize("name", GENERATIVE)
def test_sample_shape_dtype_device_and_seed(name):
    case = CASES[name]
    model = case.build()
    x = draw(model, case)
    if case.family in ("bigram", "char_mlp"):
        assert isinstance(x, list) and len(x) == 5 and all(isinstance(w, str) for w in x)
    elif case.family in ("gpt", "data_to_text", "pixels"):        # token ids
        assert x.shape == (5, case.sample_kw["n_tokens"]) and x.dtype == torch.long
        assert x.device == device_of(model) and int(x.min()) >= 0 and int(x.max()) < case.config["vocab_size"]
    else:
        shape = case.config.get("data_shape") or [1, case.config["image_size"], case.config["image_size"]]
        assert x.shape == (5, *shape) and x.dtype == torch.float32 and x.device == device_of(model)
        assert torch.isfinite(x).all()
    assert same(x, draw(model, case)), "the same generator seed must give the same samples"
    assert not same(x, draw(model, case, seed=1)), "another seed must give other samples"


@pytest.mark.parametrize("name", SAMPLING_MODULES)
@pytest.mark.parametrize("training", [True, False])
def test_sample_runs_in_eval_mode_and_restores_the_mode(name, training):
    case = CASES[name]
    model = case.build()
    seen = []
    for m in model.modules():
        m.register_forward_pre_hook(lambda mod, args: seen.append(mod.training))
    model.train(training)
    draw(model, case)
    assert seen and not any(seen), "sample must run every layer in eval mode (dropout off, BatchNorm frozen)"
    assert all(m.training == training for m in model.modules()), "sample must restore the previous mode"
    with pytest.raises(ValueError):
        model.sample(0)                                       # ... also when it raises
    assert all(m.training == training for m in model.modules())


@pytest.mark.parametrize("name", GENERATIVE)
def test_labels(name):
    case = CASES[name]
    model = case.build()
    if not case.num_classes:
        with pytest.raises(ValueError, match="unconditional"):
            model.sample(3, labels=torch.zeros(3, dtype=torch.long))
        return
    sevens = model.sample(3, labels=torch.full((3,), 7), generator=torch.Generator().manual_seed(0))
    zeros = model.sample(3, labels=torch.zeros(3, dtype=torch.long), generator=torch.Generator().manual_seed(0))
    assert not torch.equal(sevens, zeros), "the label must change what is drawn"
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) int64"):
        model.sample(3, labels=torch.zeros(3, dtype=torch.int32))
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) int64"):
        model.sample(3, labels=torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\]"):
        model.sample(3, labels=torch.full((3,), 10))


def nll_input(case: Case, n: int = 6):
    g = torch.Generator().manual_seed(3)
    if case.family in ("bigram", "char_mlp"):
        return WORDS
    if case.family in ("gpt", "data_to_text", "pixels"):
        return torch.randint(0, case.config["vocab_size"], (100,), generator=g)
    levels = case.config["levels"]
    return torch.randint(0, levels, (n, 1, 8, 8), generator=g).float() / (levels - 1)


@pytest.mark.parametrize("name", list(CASES))
def test_nll_and_its_unit(name):
    case = CASES[name]
    model = case.build()
    if case.nll is None:
        assert not hasattr(model, "nll"), "a family without a likelihood must not pretend to have one"
        return
    x = nll_input(case)
    if case.nll == "nats/example":                         # (B,) tensor, nats per image, summed over pixels
        labels = torch.arange(len(x)) % 10 if case.num_classes else None
        nll = model.nll(x, labels=labels, k=4, generator=torch.Generator().manual_seed(0))
        assert nll.shape == (len(x),) and torch.isfinite(nll).all()
        uniform = 64 * math.log(case.config["levels"])     # an untrained decoder is about uniform per pixel
        assert 0.8 * uniform < nll.mean().item() < 1.3 * uniform, "nats per image, not bits nor per pixel"
        assert torch.equal(nll, model.nll(x, labels=labels, k=4, generator=torch.Generator().manual_seed(0)))
    else:                                                  # a float, mean nats per token
        nll = model.nll(x)
        vocab = case.config.get("vocab_size") or len(CHARS)
        assert isinstance(nll, float) and math.isfinite(nll)
        assert 0.7 * math.log(vocab) < nll < 1.3 * math.log(vocab), "nats per token, not bits nor a sum"


@pytest.mark.parametrize("name", MODULES)
def test_checkpoint_round_trip_gives_identical_samples(name, tmp_path):
    case = CASES[name]
    model = case.build()
    path = checkpoints.save(tmp_path / f"{name}.pt", model, model.config_dict(), family=case.family)
    again = checkpoints.load(path, family(case.family).from_config)
    if case.family in IMAGE_TEXT:
        assert same(image_text_output(model, case), image_text_output(again, case))
        return
    assert same(draw(model, case), draw(again, case))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", SAMPLING_MODULES)
def test_generator_on_another_device(name):
    """A CUDA model with a CPU generator and a CPU model with a CUDA generator both sample."""
    case = CASES[name]
    model = case.build().cuda()
    x = draw(model, case)
    assert x.device.type == "cuda" and same(x, draw(model, case))
    cpu = case.build()
    labels = torch.arange(4) % case.num_classes if case.num_classes else None
    y = cpu.sample(4, labels=labels, generator=torch.Generator(device="cuda").manual_seed(0), **case.sample_kw)
    assert y.device.type == "cpu"


# ---------------------------------------------------------------------- genai-course sample on a bad checkpoint

@pytest.mark.parametrize("family_name", ["vae", "gan", "diffusion", "gpt"])
def test_cli_sample_names_a_checkpoint_that_does_not_fit(family_name, tmp_path):
    """Every recipe loads through course_lib.checkpoints, so a config that does not fit the weights is
    named (one line, no traceback) instead of failing inside load_state_dict."""
    case = CASES[family_name]
    model = case.build()
    bigger = {**case.config}
    key = {"vae": "hidden", "gan": "hidden", "diffusion": "hidden", "gpt": "n_embd"}[family_name]
    bigger[key] = 2 * bigger[key]
    path = checkpoints.save(tmp_path / "bad.pt", model, bigger, family=family_name,
                            tokenizer={"type": "char", "chars": list("abcdefghijk")})
    with pytest.raises(SystemExit, match="does not match the model built from its config"):
        cli.main(["sample", str(path), "--n", "2"])


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n].family in IMAGE_TEXT])
def test_image_text_families_do_not_pretend_to_generate_from_noise(name):
    """clip and captioner have no `sample` (nothing to draw from noise): IMAGE_TEXT says so, the model agrees."""
    model = CASES[name].build()
    assert not hasattr(model, "sample") and not hasattr(model, "nll")
    out = image_text_output(model, CASES[name])
    assert (out.shape == (3, 3) if name == "clip" else len(out) == 3 and all(isinstance(c, str) for c in out))
