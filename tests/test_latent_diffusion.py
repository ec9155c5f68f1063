"""Latent text-to-image diffusion (course_lib.models.latent_diffusion, recipes.t2i): cross-attention,
the autoencoder, classifier-free guidance, seeded sampling, checkpoints, the CLI and its errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import checkpoints, cli, data
from course_lib.models.diffusion import Diffusion
from course_lib.models.latent_diffusion import AutoEncoder, CrossAttention, LatentDiffusion
from course_lib.recipes import t2i

WORDS = data.load("shapes", split="test", n=10).words()
PROMPT = "a small red circle at the top"


def tiny(**kw) -> LatentDiffusion:
    torch.manual_seed(0)
    return LatentDiffusion(words=WORDS, image_channels=3, image_size=16, ae_width=8, width=32, depth=1,
                           text_width=16, text_layers=1, max_words=12, timesteps=50, **kw)


# ---------------------------------------------------------------- cross-attention
def test_cross_attention_shapes_and_weights():
    torch.manual_seed(0)
    layer = CrossAttention(dim=32, context_dim=16, n_head=4)
    x, ctx = torch.randn(2, 9, 32), torch.randn(2, 5, 16)
    keep = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out, w = layer(x, ctx, keep, return_weights=True)
    assert out.shape == (2, 9, 32) and w.shape == (2, 4, 9, 5)
    assert torch.allclose(w.sum(-1), torch.ones(2, 4, 9))
    assert (w[0, ..., 3:] == 0).all() and (w[0, ..., :3] > 0).all()          # padding gets no weight


def test_cross_attention_reads_the_text_and_ignores_padding():
    torch.manual_seed(0)
    layer = CrossAttention(dim=32, context_dim=16, n_head=4)
    x, ctx = torch.randn(1, 9, 32), torch.randn(1, 5, 16)
    keep = torch.tensor([[1, 1, 1, 0, 0]], dtype=torch.bool)
    base = layer(x, ctx, keep)
    other_words = ctx.clone()
    other_words[0, 1] += 1.0                                                  # change a real word
    assert (layer(x, other_words, keep) - base).abs().max() > 1e-3
    other_padding = ctx.clone()
    other_padding[0, 3:] = torch.randn(2, 16) * 10                            # change only the padding
    assert torch.allclose(layer(x, other_padding, keep), base, atol=1e-6)
    with pytest.raises(ValueError, match="real word in every row"):
        layer(x, ctx, torch.zeros(1, 5, dtype=torch.bool))


def test_the_denoiser_output_depends_on_the_caption_and_not_on_padding():
    model = tiny().eval()
    z, t = torch.randn(2, 4, 4, 4), torch.tensor([10, 10])
    tokens = model.tokenize([PROMPT, "a large blue square on the left"])
    with torch.no_grad():
        out = model.net(z, t, *model.context(tokens, 2))                     # (2, 12): 5 padding each
        shorter = model.net(z, t, *model.context(tokens[:, :8], 2))           # (2, 8): 1 padding each
        swapped = model.net(z, t, *model.context(tokens.flip(0), 2))
    assert torch.allclose(shorter, out, atol=1e-5)                             # less padding, same output
    assert (swapped - out).abs().max() > 1e-4                                 # another caption, another output


# ---------------------------------------------------------------- autoencoder
def test_autoencoder_round_trip_and_standardised_latents():
    torch.manual_seed(0)
    images = data.load("shapes", split="train", n=256).images                 # (256, 3, 16, 16)
    ae = AutoEncoder(3, 4, width=16)
    opt = torch.optim.Adam(ae.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                      # small convolutions: 2 threads are slower on a busy CPU
    try:
        for step in range(250):
            idx = torch.randint(len(images), (32,))
            opt.zero_grad()
            ae.loss(images[idx]).backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    ae.fit_stats(images)
    with torch.no_grad():
        z = ae.encode(images)
        recon = ae.decode(z)
    assert z.shape == (256, 4, 4, 4) and recon.shape == images.shape
    assert torch.allclose(z.mean((0, 2, 3)), torch.zeros(4), atol=1e-4)
    assert torch.allclose(z.std((0, 2, 3)), torch.ones(4), atol=1e-3)
    mse = ((recon - images) ** 2).mean()
    floor = ((images.mean(0, keepdim=True) - images) ** 2).mean()             # the best constant image
    assert mse < 0.6 * floor, (mse, floor)                                   # ~0.5 after 250 steps


# ---------------------------------------------------------------- guidance and sampling
def test_guidance_zero_is_unconditional_one_is_conditional():
    model = tiny().eval()
    z = torch.randn(3, 4, 4, 4)
    tokens = model.tokenize([PROMPT] * 3)
    tt = torch.full((3,), 20)
    s = model.noise_schedule
    with torch.no_grad():
        v_text = model.net(z, tt, *model.context(tokens, 3))
        v_null = model.net(z, tt, *model.context(None, 3))
        assert (v_text - v_null).abs().max() > 1e-4
        for guidance, v in ((0.0, v_null), (1.0, v_text), (2.5, v_null + 2.5 * (v_text - v_null))):
            eps, z0 = model.predict(z, 20, tokens, guidance)
            assert torch.allclose(z0, s.sqrt_abar[20] * z - s.sqrt_one_minus_abar[20] * v, atol=1e-5)
            assert torch.allclose(eps, s.sqrt_one_minus_abar[20] * z + s.sqrt_abar[20] * v, atol=1e-5)


def test_null_caption_is_used_with_probability_p_uncond():
    model = tiny(p_uncond=0.999)
    tokens = model.tokenize([PROMPT] * 4)
    ctx, keep = model.context(tokens, 4, drop=torch.tensor([True, False, True, False]))
    assert torch.equal(keep[0], torch.tensor([True] + [False] * (tokens.shape[1] - 1)))
    assert torch.allclose(ctx[0, 0], model.null[0, 0]) and torch.equal(keep[1], tokens[1] != 0)


def test_sampling_is_seeded_shaped_and_restores_the_mode():
    model = tiny().train()
    a = model.sample(3, prompts=PROMPT, steps=5, generator=torch.Generator().manual_seed(1))
    b = model.sample(3, prompts=PROMPT, steps=5, generator=torch.Generator().manual_seed(1))
    c = model.sample(3, prompts=PROMPT, steps=5, generator=torch.Generator().manual_seed(2))
    assert a.shape == (3, 3, 16, 16) and a.dtype == torch.float32 and 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert model.training
    assert model.sample(2, prompts=None, steps=3).shape == (2, 3, 16, 16)    # unconditional


@pytest.mark.parametrize("kwargs, message", [
    (dict(prompts=""), "empty"),
    (dict(prompts="a small pink circle"), "'pink' .* not in the vocabulary"),
    (dict(prompts=PROMPT, guidance=-1.0), "guidance must be a number >= 0"),
    (dict(prompts=[PROMPT] * 3), "one prompt or n = 2 prompts"),
    (dict(prompts=PROMPT, labels=torch.zeros(2, dtype=torch.long)), "prompts=..., not labels"),
])
def test_sample_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny().sample(2, steps=2, **kwargs)


def test_checkpoint_round_trip_gives_identical_samples(tmp_path):
    model = tiny()
    model.ae.mean.fill_(0.3)                                                   # buffers travel too
    checkpoints.save(tmp_path / "m.pt", model, model.config_dict(), family="t2i")
    again = checkpoints.load(tmp_path / "m.pt", LatentDiffusion.from_config)
    g = lambda: torch.Generator().manual_seed(0)
    assert torch.equal(model.sample(2, prompts=PROMPT, steps=4, generator=g()),
                       again.sample(2, prompts=PROMPT, steps=4, generator=g()))
    assert again.config_dict() == model.config_dict()


# ---------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("t2i") / "t2i.pt"
    options = ["--option", "width=32", "--option", "depth=1", "--option", "ae_width=8", "--option", "text_width=16"]
    assert cli.main(["train", "t2i", "--dataset", "shapes", "--steps", "5", "--out", str(out), *options]) == 0
    return out


def test_cli_train_and_sample_write_images_and_prompts(trained, tmp_path):
    assert checkpoints.read(trained)["meta"]["family"] == "t2i"
    out = tmp_path / "s.npz"
    assert cli.main(["sample", str(trained), "--prompt", PROMPT, "--n", "3", "--out", str(out),
                     "--option", "steps=3"]) == 0
    f = np.load(out)
    assert f["images"].shape == (3, 3, 16, 16) and f["images"].dtype == np.float32
    assert list(f["prompts"]) == [PROMPT] * 3


@pytest.mark.parametrize("args, message", [
    (["--prompt", ""], "non-empty --prompt"),
    (["--prompt", "a small pink circle"], "'pink'"),
    (["--prompt", PROMPT, "--option", "guidance=-2"], "guidance must be >= 0"),
    (["--prompt", PROMPT, "--option", "temperature=1"], "unknown t2i sampling option"),
])
def test_cli_sample_errors_write_nothing(trained, tmp_path, args, message):
    out = tmp_path / "s.npz"
    with pytest.raises(SystemExit, match=message) as err:
        cli.main(["sample", str(trained), "--n", "2", "--out", str(out), *args])
    assert "\n" not in str(err.value) and not out.exists() and not list(tmp_path.iterdir())


def test_a_checkpoint_of_another_family_is_refused(tmp_path):
    other = Diffusion(data_shape=(1, 8, 8), arch="unet", width=8)
    checkpoints.save(tmp_path / "d.pt", other, other.config_dict(), family="diffusion")
    with pytest.raises(SystemExit, match="'diffusion' family, not a t2i"):
        t2i.cli_sample(tmp_path / "d.pt", n=2, seed=0, out=tmp_path / "s.npz", options={"prompt": PROMPT})
    with pytest.raises(checkpoints.CheckpointError, match="could not build"):
        checkpoints.load(tmp_path / "d.pt", LatentDiffusion.from_config)
    assert not (tmp_path / "s.npz").exists()


def test_cli_train_refuses_an_unknown_dataset_or_option(tmp_path):
    with pytest.raises(SystemExit, match="trains on"):
        cli.main(["train", "t2i", "--dataset", "digits", "--steps", "2", "--out", str(tmp_path / "x.pt")])
    with pytest.raises(SystemExit, match="unknown t2i option"):
        cli.main(["train", "t2i", "--dataset", "shapes", "--steps", "2", "--out", str(tmp_path / "x.pt"),
                  "--option", "widht=3"])
    assert not list(tmp_path.iterdir())
