"""course_lib.music and the Essen dataset: prompts, music21 checks, novelty, split by family, audio, MIDI."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

pytest.importorskip("music21")

from course_lib import data, music  # noqa: E402
from course_lib.data import essen  # noqa: E402
from course_lib.models.gpt import GPT, GPTConfig  # noqa: E402
from course_lib.music.abc import Tune  # noqa: E402

# A pickup (D), three full 2/4 bars, a short final bar (G3 = 1.5 quarters).
TUNE_A = "M:2/4\nL:1/8\nK:G\nD | G2 AB | c2 BA | G2 D2 | G3\n"
PROMPT_A = "M:2/4\nL:1/8\nK:G\n"


# ----------------------------------------------------------------------------- ABC text and prompts

def test_split_tunes_reads_headers_and_bodies_and_skips_file_comments():
    text = "% a comment\n\nX:1\nT: One\nM: 3/4\nL: 1/8\nK: D\nA2 | d4 |\nf2 |]\n\nX:2\nT: Two\nN: E0001A\nM: 2/4\nL: 1/16\nK: F\nc4 |\n"
    tunes = music.split_tunes(text, source="demo")
    assert [t["ref"] for t in tunes] == ["demo:1", "demo:2"]
    assert tunes[0]["fields"] == {"T": "One", "M": "3/4", "L": "1/8", "K": "D"}
    assert tunes[0]["body"] == "A2 | d4 |\nf2 |]"
    assert tunes[1]["fields"]["N"] == "E0001A" and tunes[1]["body"] == "c4 |"


def test_header_prompt_round_trips_and_tune_text_starts_with_it():
    p = music.header_prompt("3/4", "Bb", unit="1/16")
    assert p == "M:3/4\nL:1/16\nK:Bb\n"
    assert music.parse_prompt(p) == {"meter": "3/4", "unit": "1/16", "key": "Bb"}
    t = Tune("x:1", "2/4", "1/8", "G", "t", "", "D | G2 AB |")
    assert t.text == "M:2/4\nL:1/8\nK:G\nD | G2 AB |\n"


@pytest.mark.parametrize("prompt, words", [
    ("M:3/4\nK:G\n", "three lines"),                            # L: missing
    ("L:1/8\nM:3/4\nK:G\n", "M: (meter)"),                       # wrong order
    ("M:3/4\nL:1/8\nK:G", "three lines"),                        # no final newline
    ("M:none\nL:1/8\nK:G\n", "unknown meter 'none'"),
    ("M:5/3\nL:1/8\nK:G\n", "unknown meter '5/3'"),
    ("M:3/4\nL:1/8\nK:H\n", "unknown key 'H'"),
    ("M:3/4\nL:1/8\nK:Gdor\n", "unknown key"),
    ("M:3/4\nL:1/7\nK:G\n", "unknown unit length"),
])
def test_malformed_prompts_are_clear_value_errors(prompt, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        music.parse_prompt(prompt)


def test_bar_quarters():
    assert music.bar_quarters("6/8") == 3 and music.bar_quarters("2/2") == 4 and music.bar_quarters("3/4") == 3


# ----------------------------------------------------------------------------- checks with music21

def test_count_bars_leaves_out_a_short_first_and_a_short_last_bar_only():
    assert music.count_bars([0.5, 2, 2, 1.5], "2/4") == (2, 2)            # pickup and final bar not counted
    assert music.count_bars([2, 1, 2], "2/4") == (3, 2)                   # a short interior bar is a mismatch
    assert music.count_bars([2, 3, 2, 2], "2/4") == (4, 3)                # so is a long one
    assert music.count_bars([1.5, 1.5], "3/4") == (0, 0)


def test_analyse_a_well_formed_tune():
    r = music.analyse(TUNE_A, PROMPT_A)
    assert r.valid, r.error
    assert (r.bars_counted, r.bars_matching) == (3, 3) and r.bar_share == 1.0
    assert r.in_key and r.ends_on_tonic and r.in_meter
    assert r.pitches == [62, 67, 69, 71, 72, 71, 69, 67, 62, 67]


def test_analyse_flags_wrong_key_and_wrong_meter():
    r = music.analyse("M:2/4\nL:1/8\nK:Bb\nD | G2 AB | c2 BA | G2 D2 | G3\n", "M:2/4\nL:1/8\nK:Bb\n")
    assert r.valid and not r.in_key                                     # a G tune is not in B flat
    # 3/4 bars under a 2/4 prompt: music21 splits each at 2 quarters, the remainders get their own meter
    r = music.analyse("M:2/4\nL:1/8\nK:G\nG2A2B2 | c2B2A2 | B2A2G2 | G6 |]\n", PROMPT_A)
    assert r.valid and not r.in_meter and r.bar_share < 0.7


def test_in_key_takes_the_prompted_tonic_among_the_three_best_keys():
    # A G tune that never plays C fits D major slightly better (one sharp more): still in G, key_rank 1
    r = music.analyse(PROMPT_A + "D | G2 AB | d2 f2 | e2 d2 | A2 d2 | B2 A2 | G3\n", PROMPT_A)
    assert r.best_key == "D major" and r.key_rank == 1 and r.in_key
    r = music.analyse(TUNE_A, PROMPT_A)
    assert r.key_rank == 0 and r.in_key
    r = music.analyse(TUNE_A.replace("K:G", "K:Bb"), PROMPT_A.replace("K:G", "K:Bb"))
    assert r.key_rank >= music.checks.KEY_TOP and not r.in_key


def test_in_meter_tolerates_an_odd_bar_but_not_a_meter_that_does_not_prevail():
    one_odd = PROMPT_A + "G2 AB | c2 BA | G2 A2 B | c2 BA | G4 |\n"          # a 2.5-quarter bar, re-barred 2 + 0.5
    r = music.analyse(one_odd, PROMPT_A)
    assert (r.bars_counted, r.bars_matching) == (6, 5) and r.in_meter
    mostly_odd = PROMPT_A + "G2 A | c2 B | G2 A | c2 B | G4 |\n"           # 1.5-quarter bars under 2/4
    r = music.analyse(mostly_odd, PROMPT_A)
    assert r.valid and r.bars_counted > 0 and r.bars_matching < 2 / 3 * r.bars_counted and not r.in_meter


def test_a_meter_the_text_declares_itself_fails_in_meter():
    assert music.checks.declared_meters("M:2/4\nL:1/8\nK:G\nG2 | [M:3/4] A2B2c2 |\nM:6/8\nB |") == ["2/4", "3/4", "6/8"]
    assert music.checks.declared_meters("M:none\n") == ["none"]
    changed = PROMPT_A + "G2 AB | c2 BA | [M:3/4] G2 A2 B2 | c2 B2 A2 |\n"
    r = music.analyse(changed, PROMPT_A)
    assert r.valid and r.bars_matching >= 2 / 3 * r.bars_counted and not r.in_meter


@pytest.mark.parametrize("text, why", [
    ("M:2/4\nL:1/8\nK:G\nqq | GA |\n", "could not read a note"),      # music21 would read 'q' as a C
    ("M:2/4\nL:1/8\nK:G\n|\n", "no note"),
])
def test_invalid_tunes_say_why(text, why):
    r = music.analyse(text, PROMPT_A)
    assert not r.valid and why in r.error


def test_histograms_and_total_variation():
    assert np.allclose(music.pitch_class_histogram([[60, 62], [72]])[[0, 2]], [2 / 3, 1 / 3])
    iv = music.interval_histogram([[60, 62, 60], [60, 90]])             # +2, -2, +30 clipped to +12
    assert np.isclose(iv[12 + 2], 1 / 3) and np.isclose(iv[12 - 2], 1 / 3) and np.isclose(iv[24], 1 / 3)
    p = music.pitch_class_histogram([[60]])
    assert music.total_variation(p, p) == 0 and music.total_variation(p, music.pitch_class_histogram([[61]])) == 1
    with pytest.raises(ValueError, match="same bins"):
        music.total_variation(np.ones(12) / 12, np.ones(25) / 25)


def test_summarise_counts_invalid_tunes_as_failures():
    good, bad = music.analyse(TUNE_A, PROMPT_A), music.analyse("M:2/4\nL:1/8\nK:G\n|\n", PROMPT_A)
    s = music.summarise([good, bad], [good.pitches])
    assert s["valid"] == 0.5 and s["in_key_and_meter"] == 0.5 and s["bar_share"] == 1.0
    assert s["pitch_class_tv"] == 0 and s["interval_tv"] == 0
    with pytest.raises(ValueError):
        music.summarise([])


# ----------------------------------------------------------------------------- notes and novelty

def test_pitch_sequence_applies_the_key_signature():
    assert music.pitch_sequence("M:4/4\nL:1/4\nK:F\nB c F z |\n") == [70, 72, 65]      # B flat in F; rest skipped
    assert music.pitch_sequence("M:4/4\nL:1/4\nK:G\nF =F |\n") == [66, 65]
    assert music.pitch_sequence(TUNE_A) == music.analyse(TUNE_A, PROMPT_A).pitches


def _brute_longest(seq, corpus):
    best = 0
    for s in corpus:
        for i in range(len(seq)):
            for j in range(len(s)):
                k = 0
                while i + k < len(seq) and j + k < len(s) and seq[i + k] == s[j + k]:
                    k += 1
                best = max(best, k)
    return best


def test_longest_shared_run_matches_brute_force():
    rng = random.Random(0)
    corpus = [[rng.randrange(60, 66) for _ in range(rng.randrange(5, 40))] for _ in range(20)]
    index = music.NgramIndex(corpus)
    for _ in range(30):
        seq = [rng.randrange(60, 66) for _ in range(rng.randrange(0, 30))]
        if rng.random() < 0.5 and len(seq) > 10:                      # plant a copied run
            src = rng.choice(corpus)
            seq[3:3 + len(src) // 2] = src[: len(src) // 2]
        assert index.longest_shared_run(seq) == _brute_longest(seq, corpus)
    assert music.NgramIndex([[1, 2, 3, 4, 5]]).longest_shared_run([9, 2, 3, 4, 8]) == 3
    assert music.NgramIndex([[1, 2, 3]]).longest_shared_run([7, 8]) == 0


# ----------------------------------------------------------------------------- the Essen data and its split

def _tune(ref, number=""):
    return Tune(ref, "2/4", "1/8", "G", "", number, "")


def test_family_groups_join_catalogue_variants_and_transposed_openings():
    tunes = [_tune("a:1", "E0001A"), _tune("a:2", "E0001B"), _tune("a:3", "E0002"), _tune("a:4", "Q0009"),
             _tune("a:5", "Melodie")]
    seqs = {"a:1": [60, 62, 64, 65, 67], "a:2": [50, 40, 41, 43, 52],     # variants by catalogue number
            "a:3": [60, 64, 67, 72, 71], "a:4": [62, 66, 69, 74, 73],     # the same opening a tone higher
            "a:5": [60, 60, 60, 60, 60]}
    fam = essen.family_groups(tunes, seqs)
    assert fam["a:1"] == fam["a:2"] == "a:1" and fam["a:3"] == fam["a:4"] == "a:3" and fam["a:5"] == "a:5"
    assert essen.catalogue_stem("E0001D") == "E0001" and essen.catalogue_stem("Melodievergleich") is None


def test_essen_split_keeps_every_family_in_one_split():
    tunes = essen.all_tunes()
    families = essen.family_groups(tunes, essen.pitch_sequences())
    splits = {s: {t.ref for t in data.load("essen", split=s)} for s in ("train", "val", "test")}
    assert sum(map(len, splits.values())) == len(tunes) > 8000
    assert all(len(splits[s]) > 0.05 * len(tunes) for s in ("val", "test"))
    where = {ref: s for s, refs in splits.items() for ref in refs}
    seen: dict = {}
    for t in tunes:
        assert seen.setdefault(families[t.ref], where[t.ref]) == where[t.ref], f"family of {t.ref} straddles splits"


def test_essen_is_registered_with_its_licence():
    info = data.info("essen")
    assert info.kind == "music" and "non-commercial" in info.license and "unclear" in info.license
    with pytest.raises(ValueError, match="splits"):
        data.load("essen", split="validation")


# ----------------------------------------------------------------------------- tokens, generation, training

def test_corpus_text_round_trips_through_the_abc_tokenizer():
    tok = music.abc_tokenizer()
    tunes = [Tune("x:1", "2/4", "1/8", "G", "", "", "D | G2 AB |"), Tune("x:2", "3/4", "1/8", "F", "", "", "c6 |")]
    text = music.corpus_text(tunes)
    assert text == "M:2/4\nL:1/8\nK:G\nD | G2 AB |\n\nM:3/4\nL:1/8\nK:F\nc6 |\n"
    assert tok.decode(tok.encode(text)) == text
    with pytest.raises(ValueError, match="outside the ABC alphabet"):
        music.corpus_text([Tune("x:3", "2/4", "1/8", "G", "", "", "G2 \"Am\" A2")])


def test_note_tokens_are_one_per_note_with_its_length_and_join_back_to_the_text():
    text = "M:6/8\nL:1/8\nK:F\n^c3/2 _B,2z | A/2d'4- |: e=f :|\n"
    toks = music.note_tokens(text)
    assert toks == ["M:6/8", "\n", "L:1/8", "\n", "K:F", "\n", "^c3/2", " ", "_B,2", "z", " | ", "A/2", "d'4", "-",
                    " |: ", "e", "=f", " :|", "\n"]
    assert "".join(toks) == text
    tok = music.NoteTokenizer.from_texts([text])
    assert tok.vocab_size == len(set(toks)) and tok.decode(tok.encode(text)) == text
    with pytest.raises(ValueError, match=r"outside this NoteTokenizer's vocabulary.*'G2'"):
        tok.encode("G2 |")
    with pytest.raises(ValueError, match="ids must be ints"):
        tok.decode([tok.vocab_size])


def test_note_tokenizer_round_trips_real_tunes_and_encodes_every_valid_prompt():
    tunes = data.load("essen", split="val")[:200]
    tok = music.note_tokenizer(tunes)
    text = music.corpus_text(tunes)
    ids = tok.encode(text)
    assert tok.decode(ids) == text and len(ids) < 0.7 * len(text)          # fewer tokens than characters
    prompt = music.header_prompt("5/8", "C#m", unit="1/32")                  # in no Essen tune
    assert tok.decode(tok.encode(prompt)) == prompt and len(tok.encode(prompt)) == 6


def _tiny_gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=music.abc_tokenizer().vocab_size, block_size=32, n_layer=1, n_head=2, n_embd=16))


def test_generate_tunes_continues_each_prompt_and_cuts_at_the_blank_line():
    model, tok = _tiny_gpt(), music.abc_tokenizer()
    prompts = [PROMPT_A, "M:3/4\nL:1/8\nK:F\n", PROMPT_A]
    out = music.generate_tunes(model, tok, prompts, max_chars=40, generator=torch.Generator().manual_seed(1))
    again = music.generate_tunes(model, tok, prompts, max_chars=40, generator=torch.Generator().manual_seed(1))
    assert [g.prompt for g in out] == prompts and [g.body for g in out] == [g.body for g in again]
    for g in out:
        assert "\n\n" not in g.body and len(g.body) <= 40 and g.text.startswith(g.prompt)
    with pytest.raises(ValueError, match="unknown key"):
        music.generate_tunes(model, tok, [PROMPT_A, "M:3/4\nL:1/8\nK:X\n"], max_chars=5)


def test_train_tune_gpt_runs_its_step_budget():
    from course_lib.recipes.music import train_tune_gpt
    tunes = [Tune(f"x:{i}", "2/4", "1/8", "G", "", "", "D | G2 AB | c2 BA | G2 D2 | G3") for i in range(20)]
    model, tok, hist = train_tune_gpt(tunes, steps=3, n_layer=1, n_embd=16, n_head=2, block_size=16, batch_size=4)
    assert len(hist.steps) == 3 and not model.training and model.config.vocab_size == tok.vocab_size
    with pytest.raises(TypeError, match="unknown option"):
        train_tune_gpt(tunes, steps=1, width=3)


def test_train_tune_gpt_on_note_tokens_and_generate_from_it():
    from course_lib.recipes.music import train_tune_gpt
    tunes = [Tune(f"x:{i}", "2/4", "1/8", "G", "", "", "D | G2 AB | c2 BA | G2 D2 | G3") for i in range(20)]
    model, tok, hist = train_tune_gpt(tunes, steps=3, tokenizer="note", n_layer=1, n_embd=16, n_head=2,
                                      block_size=16, batch_size=4)
    assert isinstance(tok, music.NoteTokenizer) and model.config.vocab_size == tok.vocab_size and len(hist.steps) == 3
    out = music.generate_tunes(model, tok, [PROMPT_A], max_chars=12, generator=torch.Generator().manual_seed(0))
    longest = max(len(t) for t in tok.stoi)
    assert out[0].text.startswith(PROMPT_A) and 0 < len(out[0].body) <= 12 * longest
    with pytest.raises(ValueError, match="unknown tokenizer 'word'"):
        train_tune_gpt(tunes, steps=1, tokenizer="word")


# ----------------------------------------------------------------------------- audio, piano roll, MIDI

def test_synthesize_plays_the_right_pitch_for_the_right_time():
    wave, rate = music.synthesize("M:4/4\nL:1/4\nK:C\nA4 |]\n", bpm=120)     # A4 = 440 Hz for 4 beats = 2 s
    assert wave.dtype == np.float32 and wave.ndim == 1 and np.abs(wave).max() <= 1.0 and rate == 22050
    assert abs(len(wave) / rate - 2.1) < 0.01
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.fft.rfftfreq(len(wave), 1 / rate)[spectrum.argmax()] - 440) < 2


def test_piano_roll_draws_one_box_per_note():
    import matplotlib
    matplotlib.use("Agg")
    ax = music.piano_roll(TUNE_A, title="A")
    assert len(ax.patches) == 10 and ax.get_title() == "A"


def test_write_midi_is_atomic_and_reads_back(tmp_path):
    from music21 import converter
    path = music.write_midi(TUNE_A, tmp_path / "out" / "a.mid")
    assert path.read_bytes()[:4] == b"MThd"
    assert [n.pitch.midi for n in converter.parse(str(path)).stripTies().recurse().notes] == music.pitch_sequence(TUNE_A)
    with pytest.raises(ValueError, match=r"\.mid"):
        music.write_midi(TUNE_A, tmp_path / "a.wav")
    with pytest.raises(ValueError, match="no note"):
        music.write_midi("M:2/4\nL:1/8\nK:G\n|\n", tmp_path / "out" / "b.mid")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mid"]


def test_write_midi_falls_back_to_the_plain_notes_when_music21_cannot_export_the_score(tmp_path, monkeypatch):
    """music21's MIDI export raises StreamException on some scores its own ABC parser builds (a time signature
    found twice in a part); the tune is still written, as its notes in order."""
    from music21 import converter, stream
    real_write, refused = stream.Stream.write, []

    def fussy(self, fmt=None, fp=None, **kw):
        if isinstance(self, stream.Score):
            refused.append(fp)
            raise stream.StreamException("the object is already found in this Stream")
        return real_write(self, fmt, fp=fp, **kw)

    monkeypatch.setattr(stream.Stream, "write", fussy)
    path = music.write_midi(TUNE_A, tmp_path / "a.mid")
    assert len(refused) == 1, "the score's own export must have been tried first"
    assert [n.pitch.midi for n in converter.parse(str(path)).recurse().notes] == music.pitch_sequence(TUNE_A)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mid"]


def test_missing_music21_says_how_to_install_it(monkeypatch):
    """Without the apps extra, every music tool says which package to install (not "could not parse")."""
    import importlib.util
    from course_lib.music import checks, notes, render
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "music21" else real(name, *a))
    tune = "X:1\nM:4/4\nL:1/8\nK:C\nCDEF GABc|\n"
    for call in (lambda: checks.analyse(tune, "M:4/4\nL:1/8\nK:C\n"), lambda: render.notes_of(tune),
                 lambda: notes.pitch_sequence(tune), lambda: checks.parse_abc(tune)):
        with pytest.raises(ImportError, match=r"genai-course\[apps\]"):
            call()
