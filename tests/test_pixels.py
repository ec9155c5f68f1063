"""The pixel GPT (course_lib.recipes.pixels): 8x8 digits as 64 grey-level tokens, exact bits/dim, the CLI."""
import math

import numpy as np
import pytest
import torch

from course_lib import cli, data
from course_lib.recipes import pixels

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", split="train"), data.load("digits", split="test")


def test_quantise_and_dequantise_round_trip_on_the_17_levels(digits):
    train, _ = digits
    tokens = pixels.quantise(train.images)
    assert tokens.shape == (len(train.images), 64) and tokens.dtype == torch.long
    assert int(tokens.min()) == 0 and int(tokens.max()) == 16
    assert torch.equal(pixels.dequantise(tokens), train.images)                 # the digits are on the grid
    every = torch.arange(17).repeat(4)[:64][None]                               # (1, 64): all 17 levels
    assert torch.equal(pixels.quantise(pixels.dequantise(every)), every)
    assert torch.equal(pixels.quantise(pixels.dequantise(every))[0, :8], torch.arange(8))   # raster order
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        pixels.quantise(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pixels.quantise(torch.full((1, 1, 8, 8), 1.5))


def test_inputs_are_the_targets_shifted_behind_a_start_token():
    tokens = torch.arange(64)[None] % 17                                        # (1, 64)
    x, y = pixels.inputs_targets(tokens)
    assert x[0, 0] == pixels.START == 17 and torch.equal(x[0, 1:], tokens[0, :-1]) and torch.equal(y, tokens)


def test_untrained_model_is_near_a_uniform_guess_and_a_short_training_lowers_it(digits):
    train, test = digits
    model = pixels.build(seed=0, n_layer=1, n_embd=32, n_head=2)
    before = pixels.bits_per_dim(model, test.images)
    assert abs(before - math.log2(17)) < 0.2                                    # 4.09 bits: one of 17 levels
    nats = pixels.nll_per_image(model.eval(), pixels.quantise(test.images[:3]))
    assert nats.shape == (3,) and torch.allclose(nats / (64 * math.log(2)),
                                                 torch.full((3,), before), atol=0.3)
    pixels.train(model, train.images, steps=60, generator=torch.Generator().manual_seed(0), lr=1e-2,
                 n_layer=1, n_embd=32, n_head=2)
    after = pixels.bits_per_dim(model, test.images)
    assert after < before - 1.0, (before, after)


def test_the_likelihood_is_a_distribution_over_the_17_levels_only():
    """Summed over every value of the first pixel, p(first pixel) is 1 without the start token's share."""
    model = pixels.build(seed=0, n_layer=1, n_embd=16, n_head=2).eval()
    tokens = torch.zeros(17, 64, dtype=torch.long)
    tokens[:, 0] = torch.arange(17)
    logits, _ = model(pixels.inputs_targets(tokens)[0])
    p_first = torch.log_softmax(logits[0, 0, :17], -1).exp()
    assert torch.isclose(p_first.sum(), torch.tensor(1.0))


def test_samples_have_the_shape_range_and_levels_of_the_digits():
    model = pixels.build(seed=0, n_layer=1, n_embd=16, n_head=2)
    model.train()
    x = pixels.sample(model, 5, generator=torch.Generator().manual_seed(0))
    assert x.shape == (5, 1, 8, 8) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert torch.equal(x * 16, (x * 16).round())                                # on the 17 levels
    assert model.training                                                       # mode restored
    assert torch.equal(x, pixels.sample(model, 5, generator=torch.Generator().manual_seed(0)))
    cold = pixels.sample(model, 3, temperature=0.0)
    assert torch.equal(cold[0], cold[1])                                        # greedy: one image
    with pytest.raises(ValueError, match="n must be"):
        pixels.sample(model, 0)


def test_cli_train_then_sample_round_trip(tmp_path, capsys):
    ckpt, out = tmp_path / "p.pt", tmp_path / "s.npz"
    assert cli.main(["train", "pixels", "--dataset", "digits", "--steps", "3", "--out", str(ckpt),
                     "--option", "n_layer=1", "--option", "n_embd=16", "--option", "n_head=2"]) == 0
    printed = capsys.readouterr().out
    assert "test_bits_per_dim" in printed and "steps: 3" in printed
    assert cli.main(["sample", str(ckpt), "--n", "7", "--out", str(out), "--option", "temperature=0.8"]) == 0
    with np.load(out) as f:
        images = f["images"]
    assert images.shape == (7, 1, 8, 8) and images.dtype == np.float32 and 0 <= images.min() <= images.max() <= 1
    with pytest.raises(SystemExit, match="unknown pixels sampling option"):
        cli.main(["sample", str(ckpt), "--n", "2", "--option", "top_k=3"])


@pytest.mark.parametrize("dataset, message", [("mnist5k", "8x8 digits with 17 grey levels.*784 tokens"),
                                              ("shakespeare", "8x8 digits.*'shakespeare'"),
                                              ("no_such_set", "--dataset digits; got 'no_such_set'")])
def test_a_dataset_that_is_not_the_8x8_digits_is_a_clear_error(dataset, message, tmp_path):
    with pytest.raises(SystemExit, match=message):
        cli.main(["train", "pixels", "--dataset", dataset, "--steps", "1", "--out", str(tmp_path / "p.pt")])


def test_unknown_training_option_is_named(tmp_path):
    with pytest.raises(SystemExit, match="unknown pixels option"):
        cli.main(["train", "pixels", "--dataset", "digits", "--steps", "1", "--out", str(tmp_path / "p.pt"),
                  "--option", "layers=2"])
