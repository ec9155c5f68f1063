"""Provenance by watermarking (module 14): the text green-list watermark and the DCT image watermark.

Behaviour on small known inputs; detection rates and costs are measured in benchmarks/ethics_watermark.py."""
import math

import numpy as np
import pytest
import torch

from course_lib.ethics import image_watermark as IW
from course_lib.ethics import watermark as W
from course_lib.models.gpt import GPT, GPTConfig

V = 80


@pytest.fixture(scope="module")
def zoo():
    from course_lib import pretrained
    torch.set_num_threads(1)
    return pretrained.load("shakespeare-gpt", device="cpu"), pretrained.tokenizer("shakespeare-gpt")


# ---------------------------------------------------------------------------------- green lists
def test_green_list_is_deterministic_and_an_exact_fraction():
    wm = W.Watermark(key=5, gamma=0.25)
    ctx = torch.tensor([[3, 4], [3, 4], [10, 11]])
    a, b = W.green_mask(ctx, wm, V), W.green_mask(ctx, wm, V)
    assert a.dtype == torch.bool and a.shape == (3, V)
    assert torch.equal(a, b) and torch.equal(a[0], a[1])
    assert a.sum(1).tolist() == [20, 20, 20]                      # round(0.25 * 80)


def test_green_list_depends_on_key_and_on_every_context_token():
    base = W.green_mask(torch.tensor([[3, 4]]), W.Watermark(key=5), V)
    other_key = W.green_mask(torch.tensor([[3, 4]]), W.Watermark(key=6), V)
    first_changed = W.green_mask(torch.tensor([[9, 4]]), W.Watermark(key=5), V)
    last_changed = W.green_mask(torch.tensor([[3, 9]]), W.Watermark(key=5), V)
    for other in (other_key, first_changed, last_changed):
        assert not torch.equal(base, other)


def test_green_lists_are_balanced_over_contexts():
    """Each token is green in about gamma of the contexts (no token always green: the test would be biased)."""
    ctx = torch.cartesian_prod(torch.arange(V), torch.arange(V))                   # all 6,400 contexts
    share = W.green_mask(ctx, W.Watermark(key=1, gamma=0.25), V).float().mean(0)    # (V,)
    assert share.min() > 0.2 and share.max() < 0.3


def test_z_score_formula():
    assert W.z_score(25, 100, 0.25) == 0.0
    assert W.z_score(40, 100, 0.25) == pytest.approx(15 / math.sqrt(18.75))


def test_unique_scores_each_context_token_pair_once():
    ids = torch.tensor([1, 2, 3] * 10)                   # only 3 distinct (context, token) pairs
    wm = W.Watermark(key=3)
    assert len(W.green_hits(ids, wm, V)) == 28
    assert len(W.green_hits(ids, wm, V, unique=True)) == 3


# ---------------------------------------------------------------------------------- sampling
def test_delta_zero_gives_the_models_own_draws():
    model = GPT(GPTConfig(vocab_size=V, block_size=16, n_layer=1, n_head=2, n_embd=16))
    prompt = torch.randint(0, V, (3, 4), generator=torch.Generator().manual_seed(0))
    a = model.generate(prompt, 40, generator=torch.Generator().manual_seed(1))   # past block_size: cache restarts
    b = W.generate(model, prompt, 40, W.Watermark(key=1, delta=0.0), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_bonus_makes_green_tokens_likelier_on_an_untrained_model():
    model = GPT(GPTConfig(vocab_size=V, block_size=16, n_layer=1, n_head=2, n_embd=16))
    wm = W.Watermark(key=11, gamma=0.25, delta=4.0)
    out = W.generate(model, torch.zeros(8, 2, dtype=torch.long), 30, wm, generator=torch.Generator().manual_seed(0))
    share = np.mean([W.green_hits(row, wm, V).float().mean().item() for row in out])
    assert share > 0.7                                   # chance would be 0.25; e^4 bonus on a near-flat model


def test_watermarked_shakespeare_is_detected_and_human_text_is_not(zoo):
    model, tok = zoo
    from course_lib import data
    val = data.load("shakespeare", split="val")
    wm = W.Watermark(key=42, gamma=0.25, delta=2.0)
    prompt = torch.tensor(tok.encode(val[1000:1032])).repeat(4, 1)
    out = W.generate(model, prompt, 100, wm, generator=torch.Generator().manual_seed(0))
    for row in out:
        det = W.detect(row[32 - wm.context:], wm, vocab_size=V, threshold=4.0)
        assert det.scored == 100 and det.verdict == "watermarked", det
    human = W.detect_text(val[2000:2102], wm, tok, threshold=4.0)
    assert human.scored == 100 and abs(human.z) < 2.5 and human.verdict == "no watermark found"
    plain = W.generate(model, prompt, 100, None, generator=torch.Generator().manual_seed(0))
    assert np.all(np.abs(W.z_scores(plain[:, 30:], wm, V)) < 3)


def test_replacing_every_token_removes_the_watermark_evidence():
    ids = torch.arange(40).repeat(2, 1) % V
    out = W.replace_tokens(ids, 1.0, V, torch.Generator().manual_seed(0), start=5)
    assert torch.equal(out[:, :5], ids[:, :5]) and (out[:, 5:] != ids[:, 5:]).all()
    assert torch.equal(W.replace_tokens(ids, 0.0, V), ids)


def test_calibrate_takes_the_upper_quantile():
    z = np.arange(100, dtype=float)                      # 0..99
    assert W.calibrate(z, 0.01) == 99.0
    assert W.calibrate(z, 0.10) == 90.0
    assert (z > W.calibrate(z, 0.05)).mean() <= 0.05


def test_perplexity_of_a_known_sequence_matches_the_models_loss(zoo):
    model, tok = zoo
    ids = torch.tensor(tok.encode("First Citizen:\nBefore we proceed any further, hear me speak."))[None]  # (1, 60)
    _, loss = model(ids[:, :-1], ids[:, 1:])
    assert W.perplexity(model, ids, 1) == pytest.approx(math.exp(loss.item()), rel=1e-4)
    long = ids.repeat(1, 3)                              # 180 tokens: windows of 64 sliding by 32
    nll = W.token_nll(model, long)
    assert nll.shape == (1, 179) and torch.isfinite(nll).all()
    logits, _ = model(long[:, 64:128])                   # the tokens 96..127 are scored by this window
    direct = torch.nn.functional.cross_entropy(logits[0, 31:-1], long[0, 96:128])
    assert nll[0, 95:127].mean().item() == pytest.approx(direct.item(), rel=1e-4)
    assert W.token_entropy(model, ids).shape == (1, 59)


# ---------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("key", [1.0, "42", None, True])
def test_key_must_be_an_int(key):
    with pytest.raises(TypeError, match="key must be an int"):
        W.Watermark(key=key)
    with pytest.raises(TypeError, match="key must be an int"):
        IW.ImageWatermark(key=key)


@pytest.mark.parametrize("kwargs, word", [({"gamma": 0.0}, "gamma"), ({"gamma": 1.0}, "gamma"),
                                          ({"delta": -1.0}, "delta"), ({"context": 0}, "context")])
def test_bad_knobs_are_named(kwargs, word):
    with pytest.raises(ValueError, match=word):
        W.Watermark(key=1, **kwargs)


def test_short_text_is_undecided_never_a_verdict():
    wm = W.Watermark(key=1)
    det = W.detect(torch.tensor([1, 2, 3, 4, 5]), wm, vocab_size=V, min_tokens=16)
    assert det.z is None and det.watermarked is None and det.verdict == W.TOO_SHORT and det.scored == 3
    assert W.detect(torch.tensor([1]), wm, vocab_size=V).verdict == W.TOO_SHORT


def test_characters_outside_the_tokenizer_are_an_error(zoo):
    _, tok = zoo
    with pytest.raises(ValueError, match="not in the tokenizer"):
        W.detect_text("Hello, wörld — 🙂", W.Watermark(key=1), tok)
    with pytest.raises(TypeError, match="str"):
        W.detect_text(b"bytes", W.Watermark(key=1), tok)


def test_prompt_shorter_than_the_context_is_an_error():
    model = GPT(GPTConfig(vocab_size=V, block_size=16, n_layer=1, n_head=2, n_embd=16))
    with pytest.raises(ValueError, match="context=2"):
        W.generate(model, torch.zeros(1, 1, dtype=torch.long), 5, W.Watermark(key=1))


# ---------------------------------------------------------------------------------- image watermark
def test_dct_matrix_is_orthonormal():
    d = IW.dct_matrix(28)
    assert torch.allclose(d @ d.T, torch.eye(28), atol=1e-5)


@pytest.fixture(scope="module")
def digits():
    from course_lib import data
    return data.load("mnist5k", split="test").images[:200]


def test_image_mark_is_detected_on_marked_and_not_on_clean(digits):
    wm = IW.ImageWatermark(key=7)
    thr = W.calibrate(wm.score(digits[:100]).numpy(), 0.01)
    marked = wm.embed(digits[100:])
    assert marked.shape == digits[100:].shape and marked.min() >= 0 and marked.max() <= 1
    assert (wm.score(marked) > thr).float().mean() > 0.9
    assert (wm.score(digits[100:]) > thr).float().mean() < 0.1
    assert abs(wm.score(digits).mean()) < 0.5                   # about N(0, 1) on clean images
    assert (IW.ImageWatermark(key=8).score(marked) > thr).float().mean() < 0.1   # the wrong key finds nothing
    assert 20 < IW.psnr(marked, digits[100:]).mean() < 40


def test_image_attacks_keep_shape_and_range(digits):
    x = digits[:4]
    for out in (IW.add_noise(x, 0.1, torch.Generator().manual_seed(0)), IW.blur(x, 1.0), IW.crop(x, 3),
                IW.shift(x, 1)):
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert IW.crop(x, 3)[..., :3, :].abs().sum() == 0
    flat = torch.full((1, 1, 8, 8), 0.5)
    assert torch.allclose(IW.blur(flat, 1.0), flat)              # blur keeps a constant image


def test_image_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 1, H, H\)"):
        IW.ImageWatermark(key=1).score(torch.zeros(28, 28))
    with pytest.raises(ValueError, match="alpha"):
        IW.ImageWatermark(key=1, alpha=0)
    with pytest.raises(ValueError, match="beyond the highest frequency"):
        IW.ImageWatermark(key=1, hi=40).embed(torch.zeros(1, 1, 8, 8))
