"""CharTokenizer: ids round-trip, the boundary convention of the name models, save/load, clear errors."""
import pytest
import torch

from course_lib.tokenizers import CharTokenizer


def test_from_text_sorted_and_round_trip():
    tok = CharTokenizer.from_text("hello world")
    assert list(tok.itos.values()) == sorted(set("hello world"))
    assert tok.vocab_size == len(tok) == 8
    ids = tok.encode("hello")
    assert ids == [tok.stoi[c] for c in "hello"]
    assert tok.decode(ids) == "hello"
    assert tok.decode(torch.tensor(ids)) == "hello"


def test_from_words_puts_boundary_first():
    tok = CharTokenizer.from_words(["emma", "bob"])
    assert tok.boundary == "."
    assert tok.itos == {0: ".", 1: "a", 2: "b", 3: "e", 4: "m", 5: "o"}
    assert tok.stoi["."] == 0
    assert tok.encode(".emma.") == [0, 3, 4, 4, 1, 0]


def test_names_vocabulary_is_27():
    from course_lib import data
    tok = CharTokenizer.from_words(data.load("names", split="all"))
    assert tok.vocab_size == 27 and tok.itos[26] == "z"


def test_save_load(tmp_path):
    tok = CharTokenizer.from_words(["zoe", "ann"], boundary="#")
    path = tok.save(tmp_path / "tok.json")
    back = CharTokenizer.load(path)
    assert back == tok and back.boundary == "#"
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tokenizer file"):
        CharTokenizer.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a CharTokenizer file"):
        CharTokenizer.load(bad)


def test_bad_input_messages():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        tok.encode("abz")
    with pytest.raises(TypeError, match="expects a str"):
        tok.encode([1, 2])
    with pytest.raises(ValueError, match=r"ints in \[0, 2\], got 3"):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match="unique"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="appears inside the words"):
        CharTokenizer.from_words(["a.b"])
    with pytest.raises(TypeError, match="single str"):
        CharTokenizer.from_words("emma")
