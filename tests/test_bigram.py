"""BigramModel: a proper distribution, hand-checked NLL, smoothing, temperature, sampling statistics,
and agreement with the from-scratch construction of notebook 01 ("build it, then import it")."""
import math

import pytest
import torch

from course_lib import data
from course_lib.models.bigram import BigramModel
from course_lib.tokenizers import CharTokenizer

TINY = ["ab", "ab", "ab", "ac", "b", "cab"]


@pytest.fixture(scope="module")
def names_train():
    return data.load("names", split="train")


@pytest.mark.parametrize("smoothing", [0.0, 0.5, 1.0])
def test_rows_sum_to_one(names_train, smoothing):
    m = BigramModel().fit(names_train, smoothing=smoothing)
    assert m.probs.shape == (27, 27)
    assert torch.allclose(m.probs.sum(1), torch.ones(27), atol=1e-5)
    assert (m.probs >= 0).all()


def test_nll_matches_hand_computation():
    # vocab ". a b"; pairs of ".ab." and ".b.": .a ab b. .b b.
    m = BigramModel().fit(["ab", "b"], smoothing=0)
    assert m.nll(["ab", "b"]) == pytest.approx(2 * math.log(2) / 5)
    # add-one: row "." counts [0,1,1] -> [1,2,2]/5; row a [0,0,1] -> [1,1,2]/4; row b [2,0,0] -> [3,1,1]/5
    m1 = BigramModel().fit(["ab", "b"], smoothing=1)
    expected = -(math.log(2 / 5) + math.log(2 / 4) + math.log(3 / 5)) / 3
    assert m1.nll(["ab"]) == pytest.approx(expected, rel=1e-6)
    assert m1.log_prob("ab") == pytest.approx(-3 * expected, rel=1e-6)


def test_nll_is_mean_of_log_probs(names_train):
    m = BigramModel().fit(names_train)
    words = names_train[:50]
    total = sum(m.log_prob(w) for w in words)
    assert m.nll(words) == pytest.approx(-total / sum(len(w) + 1 for w in words), rel=1e-5)


def test_no_smoothing_leaves_unseen_pairs_at_zero_and_inf_nll():
    m = BigramModel().fit(TINY, smoothing=0)
    s = m.tokenizer.stoi
    assert m.probs[s["c"], s["c"]] == 0  # "cc" never seen
    assert m.log_prob("acc") == -math.inf
    assert m.nll(["ab", "acc"]) == math.inf
    smoothed = BigramModel().fit(TINY, smoothing=1)
    assert math.isfinite(smoothed.nll(["ab", "acc"]))
    assert (smoothed.probs > 0).all()


def test_greedy_limit_of_low_temperature():
    m = BigramModel().fit(TINY, smoothing=0)
    # greedy path: argmax of each row from the boundary until the boundary comes back
    cur, greedy = 0, ""
    while True:
        cur = int(m.probs[cur].argmax())
        if cur == 0:
            break
        greedy += m.tokenizer.itos[cur]
    assert greedy == "ab"
    g = torch.Generator().manual_seed(0)
    assert set(m.sample(300, temperature=0.02, generator=g)) == {greedy}
    assert len(set(m.sample(300, temperature=1.0, generator=g))) > 1


@pytest.mark.parametrize("temperature", [0, -1.0, float("nan"), float("inf"), "hot"])
def test_temperature_must_be_positive(temperature):
    m = BigramModel().fit(TINY)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        m.sample(3, temperature=temperature)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_empirical_bigram_frequencies_match_model(temperature):
    m = BigramModel().fit(TINY, smoothing=0.5)
    g = torch.Generator().manual_seed(1)
    samples = m.sample(20000, temperature=temperature, generator=g)
    refit = BigramModel(tokenizer=m.tokenizer).fit(samples, smoothing=0)
    target = m.probs ** (1 / temperature)
    target = target / target.sum(1, keepdim=True)  # (V, V) p_T proportional to p ** (1/T)
    assert (refit.probs - target).abs().max() < 0.02


def test_sampling_is_reproducible_and_uses_vocabulary(names_train):
    m = BigramModel().fit(names_train)
    a = m.sample(20, generator=torch.Generator().manual_seed(3))
    b = m.sample(20, generator=torch.Generator().manual_seed(3))
    assert a == b and len(a) == 20
    assert all(set(w) <= set("abcdefghijklmnopqrstuvwxyz") for w in a)
    g = torch.Generator().manual_seed(0)
    assert all(len(w) <= 50 for w in m.sample(200, max_len=50, generator=g))  # max_len caps a word that never ends
    short = m.sample(200, max_len=3, generator=g)
    assert max(map(len, short)) == 3 and all(len(w) <= 3 for w in short)


def from_scratch_probs(words, smoothing=1.0):
    """The construction of notebook 01, cell by cell: a counts matrix filled by a double loop."""
    chars = sorted(set("".join(words)))
    stoi = {c: i + 1 for i, c in enumerate(chars)}
    stoi["."] = 0
    N = torch.zeros((len(stoi), len(stoi)), dtype=torch.float32)
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    P = N + smoothing
    P = P / P.sum(1, keepdim=True)
    return N, P


def test_library_agrees_with_notebook_construction(names_train):
    N, P = from_scratch_probs(names_train, smoothing=1.0)
    m = BigramModel().fit(names_train, smoothing=1.0)
    assert torch.equal(m.counts, N)
    assert (m.probs - P).abs().max().item() < 1e-7


def test_bad_input_messages():
    with pytest.raises(RuntimeError, match="call model.fit"):
        BigramModel().sample(1)
    with pytest.raises(TypeError, match="list of strings"):
        BigramModel().fit("emma")
    with pytest.raises(ValueError, match="smoothing must be a number >= 0"):
        BigramModel().fit(TINY, smoothing=-1)
    m = BigramModel().fit(TINY)
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        m.nll(["zed"])
    with pytest.raises(ValueError, match="n must be a positive int"):
        m.sample(0)
    with pytest.raises(ValueError, match="at least one word"):
        m.nll([])
    with pytest.raises(ValueError, match="needs a boundary"):
        BigramModel(tokenizer=CharTokenizer.from_text("abc")).fit(TINY)
