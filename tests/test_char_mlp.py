"""CharMLP: shapes, clear errors, it learns, sampling is reproducible, and it equals notebook 02's
from-scratch version when given the same weights (build it, then import it)."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import checkpoints
from course_lib.models.char_mlp import CharMLP, build_dataset
from course_lib.tokenizers import CharTokenizer

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]


@pytest.fixture
def tok():
    return CharTokenizer.from_words(WORDS)


@pytest.fixture
def model(tok):
    torch.manual_seed(0)
    return CharMLP(tok, context=3, n_embd=4, n_hidden=16, dropout=0.0)


def test_build_dataset_windows_and_end_token(tok):
    X, Y = build_dataset(["emma"], tok, context=3)
    assert X.dtype == Y.dtype == torch.int64
    assert X.shape == (5, 3) and Y.shape == (5,)          # 4 letters + the end token
    windows = ["".join(tok.itos[i] for i in row) for row in X.tolist()]
    assert windows == ["...", "..e", ".em", "emm", "mma"]
    assert tok.decode(Y) == "emma."
    X, Y = build_dataset(WORDS, tok, context=2)
    assert X.shape == (sum(len(w) + 1 for w in WORDS), 2)


def test_forward_shape(model, tok):
    X, _ = build_dataset(WORDS, tok, context=3)
    model.eval()
    logits = model(X)
    assert logits.shape == (len(X), tok.vocab_size)
    assert torch.allclose(logits[5], model(X[5:6])[0], atol=1e-6)   # each row depends on its own context only
    assert not torch.allclose(logits[0], logits[1])


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(4, 3), r"int64 tensor of shape \(B, 3\).*float32"),
    (torch.zeros(4, 2, dtype=torch.long), r"shape \(B, 3\).*\(4, 2\)"),
    (torch.zeros(3, dtype=torch.long), r"shape \(B, 3\).*\(3,\)"),
    ([[0, 0, 0]], r"int64 tensor.*got list"),
    (torch.full((2, 3), 99, dtype=torch.long), r"ids in \[0, \d+\].*99"),
    (torch.full((2, 3), -1, dtype=torch.long), r"ids in \[0, \d+\].*-1"),
])
def test_forward_rejects_bad_idx(model, bad, match):
    with pytest.raises(ValueError, match=match):
        model(bad)


def test_bad_arguments_are_named(tok):
    with pytest.raises(TypeError, match="list of strings"):
        build_dataset("emma", tok)
    with pytest.raises(ValueError, match="at least one word"):
        build_dataset([], tok)
    with pytest.raises(ValueError, match="context must be a positive int"):
        build_dataset(WORDS, tok, context=0)
    with pytest.raises(TypeError, match="boundary"):
        build_dataset(WORDS, CharTokenizer.from_text("abc"))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        build_dataset(["zoë"], tok)
    with pytest.raises(ValueError, match="n_hidden must be a positive int"):
        CharMLP(tok, n_hidden=0)
    with pytest.raises(ValueError, match="dropout"):
        CharMLP(tok, dropout=1.0)
    m = CharMLP(tok)
    with pytest.raises(ValueError, match="temperature"):
        m.sample(2, temperature=0)
    with pytest.raises(ValueError, match="n must be a positive int"):
        m.sample(0)


def test_short_training_lowers_the_loss(model, tok):
    X, Y = build_dataset(WORDS, tok)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    before = F.cross_entropy(model(X), Y).item()
    assert before == pytest.approx(math.log(tok.vocab_size), abs=0.3)  # near-uniform at the start
    for _ in range(100):
        loss = F.cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.nll(WORDS) < 0.5 * before                  # a tiny corpus is nearly memorised


def test_sampling_is_reproducible_with_a_generator(model):
    a = model.sample(20, generator=torch.Generator().manual_seed(1))
    b = model.sample(20, generator=torch.Generator().manual_seed(1))
    c = model.sample(20, generator=torch.Generator().manual_seed(2))
    assert a == b and a != c
    assert len(a) == 20 and all(isinstance(w, str) and "." not in w for w in a)
    assert model.training                                    # sample() restores the mode it found


def test_low_temperature_picks_the_most_likely_path(model, tok):
    words = model.sample(5, temperature=1e-4, generator=torch.Generator().manual_seed(0), max_len=8)
    assert len(set(words)) == 1                              # argmax decoding: every draw the same


def test_nll_matches_cross_entropy_by_hand(model, tok):
    model.eval()
    X, Y = build_dataset(WORDS, tok)
    logits = model(X)                                                       # (N, V)
    logp = logits - logits.exp().sum(1, keepdim=True).log()                 # log-softmax by hand
    by_hand = -logp[torch.arange(len(Y)), Y].mean().item()
    assert model.nll(WORDS) == pytest.approx(by_hand, rel=1e-5)
    total = sum(-model.log_prob(w) for w in WORDS)                          # per word, summed
    assert total / sum(len(w) + 1 for w in WORDS) == pytest.approx(by_hand, rel=1e-5)


def test_nll_ignores_dropout(tok):
    torch.manual_seed(0)
    m = CharMLP(tok, dropout=0.5)
    assert m.nll(WORDS) == m.nll(WORDS) and m.training


def test_from_scratch_version_gives_the_same_logits(tok):
    """Notebook 02 builds the model from raw tensors; with the same weights CharMLP must agree."""
    g = torch.Generator().manual_seed(0)
    V, ctx, n_embd, n_hidden = tok.vocab_size, 3, 5, 32
    C = torch.randn(V, n_embd, generator=g)                       # (V, n_embd) embedding table
    W1 = torch.randn(ctx * n_embd, n_hidden, generator=g) * 0.2   # (ctx*n_embd, n_hidden)
    b1 = torch.randn(n_hidden, generator=g) * 0.1
    gain = 1 + 0.1 * torch.randn(n_hidden, generator=g)           # layer-norm scale and shift
    bias = 0.1 * torch.randn(n_hidden, generator=g)
    W2 = torch.randn(n_hidden, V, generator=g) * 0.1              # (n_hidden, V)
    b2 = torch.randn(V, generator=g) * 0.1

    X, _ = build_dataset(WORDS, tok, context=ctx)
    emb = C[X]                                                    # (N, ctx, n_embd)
    hpre = emb.view(len(X), -1) @ W1 + b1                         # (N, n_hidden)
    mu = hpre.mean(1, keepdim=True)
    var = hpre.var(1, keepdim=True, unbiased=False)
    h = torch.tanh(gain * (hpre - mu) / torch.sqrt(var + 1e-5) + bias)
    scratch = h @ W2 + b2                                         # (N, V)

    m = CharMLP(tok, context=ctx, n_embd=n_embd, n_hidden=n_hidden).eval()
    with torch.no_grad():
        m.wte.weight.copy_(C)
        m.fc.weight.copy_(W1.T)                                   # nn.Linear stores (out, in)
        m.fc.bias.copy_(b1)
        m.ln.weight.copy_(gain)
        m.ln.bias.copy_(bias)
        m.head.weight.copy_(W2.T)
        m.head.bias.copy_(b2)
        assert torch.allclose(m(X), scratch, atol=1e-5)


def test_checkpoint_round_trip(model, tmp_path):
    path = checkpoints.save(tmp_path / "mlp.pt", model, model.config)
    loaded = checkpoints.load(path, CharMLP.from_config)
    assert loaded.config == model.config and loaded.tokenizer == model.tokenizer
    X = torch.zeros(2, 3, dtype=torch.long)
    model.eval()
    assert torch.equal(loaded.eval()(X), model(X))
