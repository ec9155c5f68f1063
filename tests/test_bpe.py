"""BPETokenizer: merges learned from the corpus, exact round trip, save/load, the merge step, clear errors."""
import pytest
import torch

from course_lib import data
from course_lib.tokenizers import BPETokenizer, CharTokenizer, get_pair_counts, merge_pair


@pytest.fixture(scope="module")
def corpus():
    return data.load("shakespeare", split="train")[:60_000], data.load("shakespeare", split="val")[:30_000]


@pytest.fixture(scope="module")
def tok(corpus):
    return BPETokenizer.train(corpus[0], vocab_size=256 + 100)


def test_pair_counts_and_merge_step():
    assert get_pair_counts([1, 2, 1, 2]) == {(1, 2): 2, (2, 1): 1}
    assert merge_pair([1, 2, 3, 1, 2], (1, 2), 9) == [9, 3, 9]
    assert merge_pair([1, 1, 1], (1, 1), 7) == [7, 1]          # left to right, no overlap
    assert merge_pair([5], (1, 2), 9) == [5]


def test_round_trip_on_the_corpus(tok, corpus):
    train, val = corpus
    for text in (train[:20_000], val):                          # held-out plays too
        assert tok.decode(tok.encode(text)) == text
    odd = "naïve café — 日本 \t\n  x"                             # never seen: falls back to bytes
    assert tok.decode(tok.encode(odd)) == odd


def test_merges_compress_and_are_frequent_pairs(tok, corpus):
    _, val = corpus
    assert tok.vocab_size == 356 and len(tok) == 356
    ids = tok.encode(val)
    assert len(val) / len(ids) > 1.5                            # bytes alone give exactly 1.0
    assert tok.token_str(256) in (" t", "he", "th", "e ")        # the first merge is a very common pair
    assert tok.decode(torch.tensor(ids[:50])) == tok.decode(ids[:50])


def test_training_is_deterministic_and_save_load(tok, corpus, tmp_path):
    again = BPETokenizer.train(corpus[0], vocab_size=356)
    assert again == tok
    path = tok.save(tmp_path / "bpe.json")
    loaded = BPETokenizer.load(path)
    assert loaded == tok and loaded.encode("To be, or not") == tok.encode("To be, or not")
    assert [p.name for p in tmp_path.iterdir()] == ["bpe.json"]


def test_first_merge_matches_a_hand_count():
    tok = BPETokenizer.train("aaab aaab", vocab_size=257)
    assert tok.vocab[256] == b"aa"
    assert tok.encode("aaab") == [256, ord("a"), ord("b")]


def test_clear_errors(tok, tmp_path):
    with pytest.raises(ValueError, match="vocab_size must be an int >= 256"):
        BPETokenizer.train("abc", vocab_size=10)
    with pytest.raises(TypeError, match="encode expects a str"):
        tok.encode(["a"])
    with pytest.raises(ValueError, match=r"ids must be ints in \[0, 355\], got 999"):
        tok.decode([65, 999])
    with pytest.raises(FileNotFoundError):
        BPETokenizer.load(tmp_path / "missing.json")
    path = CharTokenizer.from_text("ab").save(tmp_path / "char.json")
    with pytest.raises(ValueError, match="not a BPETokenizer file"):
        BPETokenizer.load(path)
