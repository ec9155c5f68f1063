"""Music for notebook 10: ABC tunes in, a GPT's tunes out, and the checks a musician would make, with music21.

    from course_lib import data, music
    train = data.load("essen", split="train")                    # list[Tune], split by song family
    prompt = music.header_prompt("3/4", "G", unit="1/8")        # "M:3/4\\nL:1/8\\nK:G\\n" (checked)
    report = music.analyse(tune.text, tune.prompt)              # valid, bars, key, meter, pitches
    music.summarise(reports, reference_pitches)                 # shares and distribution distances
    music.NgramIndex(train_pitches).longest_shared_run(seq)     # novelty
    wave, rate = music.synthesize(tune.text)                    # IPython.display.Audio(wave, rate=rate)
    music.piano_roll(tune.text); music.write_midi(tune.text, "tune.mid")
    music.note_tokens("D | G2 AB |")                            # ['D', ' | ', 'G2', ' ', 'A', 'B', ' |']

Modules: abc (text and prompts), notes (pitch sequences, novelty), checks (music21 checks),
generate (training text, tokenizers, generation from prompts), tokens (the note-level tokenizer),
render (piano roll, audio, MIDI).
Training lives in course_lib.recipes.music.
"""
from course_lib.music.abc import Tune, bar_quarters, header_prompt, parse_prompt, split_tunes
from course_lib.music.checks import (TuneReport, analyse, count_bars, interval_histogram, pitch_class_histogram,
                                     summarise, total_variation)
from course_lib.music.generate import GeneratedTune, abc_tokenizer, corpus_text, generate_tunes, note_tokenizer
from course_lib.music.notes import NgramIndex, ngram_hashes, pitch_sequence
from course_lib.music.tokens import NoteTokenizer, note_tokens
from course_lib.music.render import notes_of, piano_roll, synthesize, write_midi

__all__ = ["Tune", "bar_quarters", "header_prompt", "parse_prompt", "split_tunes", "TuneReport", "analyse",
           "count_bars", "interval_histogram", "pitch_class_histogram", "summarise", "total_variation",
           "GeneratedTune", "abc_tokenizer", "corpus_text", "generate_tunes", "note_tokenizer", "NoteTokenizer",
           "note_tokens", "NgramIndex", "ngram_hashes", "pitch_sequence", "notes_of", "piano_roll", "synthesize",
           "write_midi"]
