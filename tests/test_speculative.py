"""course_lib.speculative: the acceptance rule keeps the target's distribution exactly (a seeded chi-square
test on a 4-token vocabulary), greedy decoding is unchanged, the n-gram draft, Leviathan's formula, bad input."""
import itertools

import pytest
import torch
from scipy.stats import chisquare

import course_lib.speculative as spec
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.models.ngram import NGramLM
from course_lib.speculative import accept_draft, expected_speedup, expected_tokens, speculative_generate


def gpt(seed, vocab=4, layers=1, sharp=3.0, block=16):
    torch.manual_seed(seed)
    m = GPT(GPTConfig(vocab_size=vocab, block_size=block, n_layer=layers, n_head=2, n_embd=16)).eval()
    with torch.no_grad():
        m.head.weight.mul_(sharp * 50)                 # peaked, different distributions (init std 0.02)
    return m


def exact_distribution(model, prompt, n):
    """P(next n tokens) of every one of the V^n continuations, from the target's own conditionals."""
    V = model.config.vocab_size
    probs = {}
    with torch.no_grad():
        for cont in itertools.product(range(V), repeat=n):
            seq = torch.cat([prompt, torch.tensor([cont])], dim=1)
            logp = torch.log_softmax(model(seq)[0][0], -1)                     # (T, V)
            T0 = prompt.size(1)
            probs[cont] = float(sum(logp[T0 - 1 + i, c] for i, c in enumerate(cont)).exp())
    return probs


def draw(target, draft, prompt, n, runs, k=3):
    g = torch.Generator().manual_seed(0)
    counts, alphas = {}, []
    for _ in range(runs):
        out, stats = speculative_generate(target, draft, prompt, n, k=k, generator=g)
        key = tuple(out[0, prompt.size(1):].tolist())
        counts[key] = counts.get(key, 0) + 1
        alphas.append(stats["alpha"])
    return counts, alphas


class Bigram(torch.nn.Module):
    """A cheap draft with the GPT's forward shape: logits from the last token only."""

    def __init__(self, vocab, seed):
        super().__init__()
        self.vocab_size, self.context = vocab, 1
        self.table = torch.randn(vocab, vocab, generator=torch.Generator().manual_seed(seed)) * 2

    def forward(self, idx):
        return self.table[idx], None


def chi_square_p(counts, probs, runs):
    """Pearson's test over the continuations, the rare ones (expected count < 5) pooled into one cell."""
    keys = sorted(probs)
    big = [k for k in keys if probs[k] * runs >= 5]
    observed = [counts.get(k, 0) for k in big] + [runs - sum(counts.get(k, 0) for k in big)]
    expected = [probs[k] * runs for k in big] + [runs - sum(probs[k] * runs for k in big)]
    return chisquare(observed, expected).pvalue


@pytest.fixture(autouse=True)
def one_thread():
    """Many tiny forward passes: one thread avoids contention on a shared CPU (and is faster here)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("draft_kind", ["gpt", "bigram"])
def test_output_distribution_equals_the_targets(draft_kind):
    target = gpt(0, sharp=1.0)
    draft = gpt(1, sharp=1.0) if draft_kind == "gpt" else Bigram(4, 1)
    prompt = torch.tensor([[1, 2]])
    probs = exact_distribution(target, prompt, 3)
    runs = 1000
    counts, alphas = draw(target, draft, prompt, 3, runs)
    assert 0.1 < sum(alphas) / runs < 0.9                   # drafts are both accepted and rejected
    assert chi_square_p(counts, probs, runs) > 0.01


def test_the_test_catches_a_wrong_rule(monkeypatch):
    """Accepting every draft token gives the draft's distribution: the same chi-square test must fail."""
    target, draft = gpt(0, sharp=1.0), Bigram(4, 1)
    prompt = torch.tensor([[1, 2]])
    probs = exact_distribution(target, prompt, 3)
    monkeypatch.setattr(spec, "accept_draft", lambda p, q, d, g=None: (d.numel(), int(p[-1].argmax())))
    counts, _ = draw(target, draft, prompt, 3, 1000)
    assert chi_square_p(counts, probs, 1000) < 1e-6


def test_accept_rule_cases():
    g = torch.Generator().manual_seed(0)
    p = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    n, nxt = accept_draft(p, p[:2].clone(), torch.tensor([0, 2]), g)
    assert (n, nxt) == (2, 2)                                # q == p: always kept; the bonus token from p[2]
    q = torch.tensor([[0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]])
    n, nxt = accept_draft(p, q, torch.tensor([2, 0]), g)     # p(2) = 0 at position 0: always rejected,
    assert n == 0 and nxt in (0, 1)                          # the replacement from (p - q)+ = {0, 1}
    with pytest.raises(ValueError, match=r"need p \(k\+1, V\) and q \(k, V\) for k = 2"):
        accept_draft(p[:2], q, torch.tensor([2, 0]))


def test_greedy_equals_the_targets_greedy_decoding():
    target, draft = gpt(0, vocab=7, layers=2, sharp=1.0, block=32), gpt(3, vocab=7, sharp=1.0, block=32)
    prompt = torch.tensor([[1, 2, 3]])
    out, stats = speculative_generate(target, draft, prompt, 40, k=4, temperature=0)   # crosses block_size
    ref = target.generate(prompt, 20, temperature=0)
    assert torch.equal(out[:, :23], ref) and out.shape == (1, 43)
    assert stats["target_calls"] == stats["rounds"] < 40      # fewer target passes than tokens
    same, s2 = speculative_generate(target, target, prompt, 20, k=3, temperature=0)
    assert torch.equal(same, ref) and s2["alpha"] == 1.0 and s2["tokens_per_round"] > 3


def test_ngram_draft():
    ids = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 3])
    ng = NGramLM(4, n=3, k=0.0).fit(ids)
    probs = ng(torch.tensor([[0, 1]]))[0][0].exp()                             # (2, V)
    assert torch.allclose(probs[0], torch.tensor([0.0, 1.0, 0.0, 0.0]))        # after 0 (bigram): always 1
    assert torch.allclose(probs[1], torch.tensor([0.0, 0.0, 2 / 3, 1 / 3]))    # after (0, 1): 2 twice, 3 once
    target = gpt(0, vocab=4, block=16)
    out, stats = speculative_generate(target, NGramLM(4, n=2).fit(ids), torch.tensor([[0]]), 30, k=3,
                                      generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 31) and stats["draft_calls"] > 0


def test_formula():
    assert expected_tokens(0.0, 4) == 1 and expected_tokens(1.0, 4) == 5
    assert expected_tokens(0.5, 2) == pytest.approx(1.75)
    assert expected_speedup(0.8, 0.1, 3) == pytest.approx((1 - 0.8 ** 4) / 0.2 / 1.3)


def test_bad_input():
    with pytest.raises(ValueError, match="draft model must share the target's vocabulary: target vocab_size 4, "
                                         "draft vocab_size 5"):
        speculative_generate(gpt(0), gpt(1, vocab=5), torch.tensor([[1]]), 3)
    with pytest.raises(ValueError, match=r"shape \(1, T\) \(one sequence\), got \(2, 1\)"):
        speculative_generate(gpt(0), gpt(1), torch.tensor([[1], [2]]), 3)
    with pytest.raises(ValueError, match="k must be an int >= 0, got -1"):
        speculative_generate(gpt(0), gpt(1), torch.tensor([[1]]), 3, k=-1)
