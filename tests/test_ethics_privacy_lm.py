"""Memorisation and privacy of a language model (issue 22 items 1, 3, 4): course_lib.ethics.canaries,
membership and dp, on known inputs and one tiny trained GPT."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from course_lib.ethics import canaries as cn
from course_lib.ethics import dp
from course_lib.ethics import membership as mi
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.tokenizers import CharTokenizer

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny matrices: a second thread only adds contention on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ALPHABET = "\n abcdefghijklmnopqrstuvwxyz0123456789.,:"
TOK = CharTokenizer(sorted(set(ALPHABET)))


# ------------------------------------------------------------------ membership metrics

def test_roc_auc_known_cases():
    assert mi.roc_auc([3.0, 2.0], [1.0, 2.5]) == pytest.approx(0.75)     # 3 of 4 pairs won
    assert mi.roc_auc([1.0, 1.0], [1.0]) == pytest.approx(0.5)             # all ties: one half each
    assert mi.roc_auc([5, 6], [1, 2, 3]) == 1.0 and mi.roc_auc([1], [2]) == 0.0


def test_tpr_at_fpr_never_exceeds_the_false_positive_rate():
    members, non = [5, 4, 3, 2], [1, 2, 3, 4, 4.5]
    assert mi.tpr_at_fpr(members, non, 0.2) == pytest.approx(0.25)          # 1 of 5 non-members allowed: > 4
    assert mi.tpr_at_fpr(members, non, 0.0) == pytest.approx(0.25)          # above every non-member: only 5
    gen = torch.Generator().manual_seed(0)
    m, n = torch.randn(500, generator=gen) + 1, torch.randn(1000, generator=gen)
    for fpr in (0.001, 0.01, 0.1):
        thr_pass = mi.tpr_at_fpr(n, n, fpr)                    # the non-members themselves: measured FPR
        assert thr_pass <= fpr + 1e-12
        assert mi.tpr_at_fpr(m, n, fpr) >= thr_pass


@pytest.mark.parametrize("call,match", [
    (lambda: mi.roc_auc([], [1.0]), "at least one"),
    (lambda: mi.roc_auc([float("nan")], [1.0]), "finite"),
    (lambda: mi.tpr_at_fpr([1.0], [0.0], 1.5), "fpr"),
])
def test_membership_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ canaries

def test_canary_format_and_space():
    assert cn.canary_line(481592) == "the secret code is 4 8 1 5 9 2"
    assert cn.canary_line("000007") == cn.canary_line(7) == cn.canary_line("0 0 0 0 0 7")
    assert cn.SPACE == 10 ** 6
    for bad in (10 ** 6, -1, "12345", "12a456"):
        with pytest.raises(ValueError, match="secret"):
            cn.canary_line(bad)
    s = cn.random_secrets(5, seed=1)
    assert len(set(s)) == 5 and s == cn.random_secrets(5, seed=1)


def test_canary_outside_the_tokenizer_is_named():
    letters_only = CharTokenizer(sorted(set("\n abcdefghijklmnopqrstuvwxyz")))
    with pytest.raises(ValueError, match=r"outside the tokenizer.*'1'"):
        cn.check_encodable(cn.canary_line(123456), letters_only)


def test_plant_inserts_each_canary_its_number_of_times():
    lines = [f"line {i}" for i in range(20)]
    out = cn.plant(lines, {"a": 3, "b": 0, "c": 1}, seed=0)
    assert len(out) == 24 and out.count("a") == 3 and out.count("b") == 0 and out.count("c") == 1
    assert [x for x in out if x.startswith("line")] == lines                  # order of the text kept
    with pytest.raises(ValueError, match="one line"):
        cn.plant(lines, {"a\nb": 1})


def test_deduplicate_keeps_first_occurrences_in_order():
    out = cn.deduplicate(cn.plant(["x", "y", "z"], {"c": 5}, seed=3))
    assert sorted(out) == ["c", "x", "y", "z"] and [v for v in out if v != "c"] == ["x", "y", "z"]
    with pytest.raises(TypeError, match="list of strings"):
        cn.deduplicate("x\ny")


class _Fixed(nn.Module):
    """A stand-in language model: uniform everywhere, or (with `favour`) sure of one line."""

    def __init__(self, vocab, favour: list[int] | None = None):
        super().__init__()
        self.config = GPTConfig(vocab_size=vocab, block_size=48, n_layer=1, n_head=1, n_embd=4)
        self.w = nn.Parameter(torch.zeros(1))
        self.favour = favour

    def forward(self, idx, targets=None, check_ids=True):
        logits = torch.zeros(*idx.shape, self.config.vocab_size) + self.w
        if self.favour is not None:
            for t in range(idx.size(1)):
                if t + 1 < len(self.favour):
                    logits[:, t, self.favour[t + 1]] = 20.0
        return logits, None


def test_exposure_of_a_uniform_model_is_about_one_bit_and_of_a_sure_model_the_cap():
    uniform = _Fixed(TOK.vocab_size)
    e = cn.exposure(uniform, TOK, 123456, samples=200)
    assert e["exposure"] == pytest.approx(math.log2(201 / 101), abs=1e-6)     # all 200 tie: half count
    line = TOK.encode("\n" + cn.canary_line(123456))
    sure = _Fixed(TOK.vocab_size, favour=line)
    e = cn.exposure(sure, TOK, 123456, samples=200)
    assert e["rank_in_sample"] == 1 and e["exposure"] == pytest.approx(math.log2(201))
    assert e["exposure_extrapolated"] >= e["exposure"] and e["max_exposure"] == pytest.approx(math.log2(10 ** 6))
    assert cn.likeliest_secrets(sure, TOK, 3)[0] == "1 2 3 4 5 6"


def test_longest_common_substring():
    assert cn.longest_common_substring("xxhello worldyy", "say hello world now") == 11
    assert cn.longest_common_substring("qqq", "abc") == 0


@pytest.fixture(scope="module")
def trained():
    """A tiny GPT trained 150 steps on 40 short lines plus a canary planted 30 times and one never planted."""
    torch.manual_seed(0)
    words = ["the cat sat on the mat", "a dog ran in the park", "we sing of old kings", "rain falls on the hill"]
    lines = [f"{w} {i}" for i in range(10) for w in words]
    planted = cn.plant(lines, {cn.canary_line(271828): 30, cn.canary_line(314159): 0}, seed=0)
    x, y = dp.encode_lines(planted, TOK, 40)
    model = GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=40, n_layer=1, n_head=2, n_embd=32))
    dp.fit_lines(model, x, y, steps=150, batch_size=32, lr=1e-2, seed=0)
    return model, lines


def test_a_repeated_canary_is_exposed_and_extractable_an_unseen_one_is_not(trained):
    model, _ = trained
    seen = cn.exposure(model, TOK, 271828, samples=200)
    unseen = cn.exposure(model, TOK, 314159, samples=200)
    assert seen["exposure"] > 7 and unseen["exposure"] < 4
    assert "2 7 1 8 2 8" in cn.likeliest_secrets(model, TOK, 5)
    assert cn.extract_secret(model, TOK) == "2 7 1 8 2 8"                   # greedy decoding reads it off


def test_members_score_lower_loss_than_nonmembers(trained):
    model, lines = trained
    others = [f"{w} {i}" for i in range(10) for w in ["hot sun on cold sea", "my horse is slow now"]]
    lm, ln = mi.line_losses(model, TOK, lines), mi.line_losses(model, TOK, others)
    assert mi.roc_auc(mi.loss_threshold_scores(lm), mi.loss_threshold_scores(ln)) > 0.9


# ------------------------------------------------------------------ DP-SGD

def test_epsilon_matches_an_independent_accountant_and_the_gaussian_mechanism():
    # Opacus 1.6.0's RDPAccountant gives 2.1014 here (it also uses fractional orders: a little lower)
    assert dp.epsilon(1000, sample_rate=0.01, noise_multiplier=1.0, delta=1e-5) == pytest.approx(2.1014, rel=0.01)
    # q = 1: the Gaussian mechanism, RDP alpha / (2 sigma^2) exactly
    assert dp.rdp_subsampled_gaussian(1.0, 2.0, 5) == pytest.approx(5 / 8)
    assert dp.rdp_subsampled_gaussian(0.999999, 2.0, 5) == pytest.approx(5 / 8, rel=1e-4)
    e1 = dp.epsilon(100, sample_rate=0.05, noise_multiplier=1.0, delta=1e-5)
    e2 = dp.epsilon(100, sample_rate=0.05, noise_multiplier=2.0, delta=1e-5)
    e3 = dp.epsilon(400, sample_rate=0.05, noise_multiplier=1.0, delta=1e-5)
    assert e2 < e1 < e3 and dp.epsilon(0, sample_rate=0.05, noise_multiplier=1.0, delta=1e-5) == 0.0


def test_noise_for_epsilon_reaches_the_target():
    s = dp.noise_for_epsilon(3.0, 500, sample_rate=0.02, delta=1e-5)
    assert dp.epsilon(500, sample_rate=0.02, noise_multiplier=s, delta=1e-5) <= 3.0
    assert dp.epsilon(500, sample_rate=0.02, noise_multiplier=s * 0.99, delta=1e-5) > 3.0


@pytest.mark.parametrize("bad", [0, -1.0, 0.0])
def test_epsilon_at_most_zero_is_refused(bad):
    with pytest.raises(ValueError, match="epsilon must be a number > 0"):
        dp.noise_for_epsilon(bad, 100, sample_rate=0.1, delta=1e-5)


def test_dp_config_bad_input():
    with pytest.raises(ValueError, match="noise_multiplier"):
        dp.DPConfig(noise_multiplier=0)
    with pytest.raises(ValueError, match="sample_rate"):
        dp.DPConfig(sample_rate=1.5)


def _tiny():
    torch.manual_seed(1)
    return GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16))


def test_dp_gradient_without_noise_or_clipping_is_the_mean_of_per_example_gradients():
    model = _tiny()
    x, y = dp.encode_lines(["abc def", "the cat", "hi"], TOK, 16)
    dp.dp_gradients(model, x, y, dp.DPConfig(noise_multiplier=1e-12, max_grad_norm=1e6, sample_rate=1.0), 3.0)
    got = {n: p.grad.clone() for n, p in model.named_parameters()}
    want = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for i in range(3):                                               # the slow way: one example at a time
        model.zero_grad()
        logits, _ = model(x[i:i + 1])
        torch.nn.functional.cross_entropy(logits[0], y[i], ignore_index=-1).backward()
        for n, p in model.named_parameters():
            want[n] += p.grad / 3
    for n in got:
        torch.testing.assert_close(got[n], want[n], atol=1e-5, rtol=1e-4)


def test_dp_gradient_clips_each_example():
    model = _tiny()
    x, y = dp.encode_lines(["abc def", "the cat", "hi", "zz top"], TOK, 16)
    C = 1e-3
    dp.dp_gradients(model, x, y, dp.DPConfig(noise_multiplier=1e-12, max_grad_norm=C, sample_rate=1.0), 1.0)
    total = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in model.parameters()))
    assert total <= 4 * C * (1 + 1e-4)                               # 4 examples, each at most C
    assert total > C                                                 # and not all zero


def test_dp_training_runs_and_is_seeded():
    x, y = dp.encode_lines(["abc def", "the cat", "hi", "zz top"] * 5, TOK, 16)
    cfg = dp.DPConfig(noise_multiplier=1.0, max_grad_norm=1.0, sample_rate=0.3)
    a, b = _tiny(), _tiny()
    la = dp.fit_lines(a, x, y, steps=3, dp=cfg, seed=4)
    lb = dp.fit_lines(b, x, y, steps=3, dp=cfg, seed=4)
    assert la == lb
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    with pytest.raises(ValueError, match="steps"):
        dp.fit_lines(a, x, y, steps=0)
