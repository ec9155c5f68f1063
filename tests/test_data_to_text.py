"""Data-to-text (issue 18 part 3): weekly stock records, the report generator, the hallucination checker,
placeholders, distinct-n and the conditioned GPT (tiny configs: seconds)."""
import random

import pytest
import torch

from course_lib.data import stocks
from course_lib.data.stocks import WeekRecord, linearise, record_from_dict, split_by_time, weekly_records
from course_lib.recipes import data_to_text as d2t
from course_lib.reports import (FORMATS, check, delexicalise, distinct_n, error_summary, fill, format_ok, perturb,
                                template_text, write, write_template)


@pytest.fixture(scope="module")
def recs():
    return weekly_records()


REC = dict(ticker="AAPL", week="2005-03-07", open=5.6702, close=5.7188, change_pct=0.857, direction="up",
           high=5.7651, low=5.3706, best="AAPL", worst="IBM", rank=1)


# ---- records -----------------------------------------------------------------------------------------
def test_weekly_records_are_consistent(recs):
    assert len(recs) > 1500
    weeks = [r.week for r in recs]
    assert weeks == sorted(weeks)
    by_week = {}
    for r in recs:
        by_week.setdefault(r.week, []).append(r)
        assert r.low <= min(r.open, r.close) and r.high >= max(r.open, r.close)
        assert r.change_pct == pytest.approx(100 * (r.close / r.open - 1))
        assert r.direction == stocks.direction_of(round(r.change_pct, 1))
    for week, rs in by_week.items():
        assert sorted(r.ticker for r in rs) == sorted(stocks.TICKERS)
        ranked = sorted(rs, key=lambda r: r.rank)
        assert [r.rank for r in ranked] == [1, 2, 3, 4]
        assert ranked[0].ticker == rs[0].best and ranked[-1].ticker == rs[0].worst
        assert ranked[0].change_pct >= ranked[-1].change_pct


def test_adjusted_closes_show_no_split_crash(recs):
    # AAPL split 2-for-1 on 2005-02-28: the unadjusted close halves that day, the adjusted one does not
    from bokeh_sampledata import stocks as raw
    i = raw.AAPL["date"].index("2005-02-28")
    assert raw.AAPL["close"][i] / raw.AAPL["close"][i - 1] < 0.6
    week = next(r for r in recs if r.ticker == "AAPL" and r.week == "2005-02-28")
    assert abs(week.change_pct) < 15


def test_record_with_missing_or_bad_field_is_a_clear_error():
    for field in ("close", "best", "week"):
        bad = {k: v for k, v in REC.items() if k != field}
        with pytest.raises(ValueError, match=f"missing field.*{field}"):
            record_from_dict(bad)
    with pytest.raises(ValueError, match="unknown field"):
        record_from_dict({**REC, "volume": 1})
    with pytest.raises(ValueError, match="ticker"):
        record_from_dict({**REC, "ticker": "XYZ"})
    with pytest.raises(ValueError, match="week"):
        record_from_dict({**REC, "week": "last week"})
    with pytest.raises(ValueError, match="missing field"):
        check("AAPL rose 0.9%.", {k: v for k, v in REC.items() if k != "change_pct"})


def test_linearise_states_every_field():
    line = linearise(REC)
    for part in ("ticker=AAPL", "week=2005-03-07", "open=5.67", "close=5.72", "change=+0.9%", "high=5.77",
                 "low=5.37", "dir=up", "best=AAPL", "worst=IBM", "rank=1"):
        assert part in line
    assert "5.72" not in linearise(REC, values=False) and "dir=up" in linearise(REC, values=False)


def test_split_by_time_holds_out_later_weeks(recs):
    train, held = split_by_time(recs, held_out=0.2)
    assert max(r.week for r in train) < min(r.week for r in held)
    assert len(train) + len(held) == len(recs)
    assert 0.15 < len({r.week for r in held}) / len({r.week for r in recs}) < 0.25
    assert split_by_time(recs, 0.2) == (train, held)
    with pytest.raises(ValueError, match="held_out"):
        split_by_time(recs, 1.5)


# ---- generator, checker, perturbation ----------------------------------------------------------------
def test_generated_texts_are_true_and_in_format(recs):
    for seed in range(600):
        rng = random.Random(seed)
        rec, fmt = recs[rng.randrange(len(recs))], FORMATS[seed % 4]
        text = write(rec, fmt, rng)
        assert check(text, rec) == [], (text, check(text, rec))
        assert format_ok(text, fmt), (fmt, text)
        assert check(template_text(rec, fmt), rec) == [] and format_ok(template_text(rec, fmt), fmt)


def test_one_changed_fact_is_caught(recs):
    kinds = set()
    for seed in range(600):
        rng = random.Random(seed)
        rec, fmt = recs[rng.randrange(len(recs))], FORMATS[seed % 4]
        wrong, what = perturb(write(rec, fmt, rng), rng)
        assert check(wrong, rec), (what, wrong)
        kinds.add(what.split()[0])
    assert kinds == {"number", "direction", "ticker", "date"}


@pytest.mark.parametrize("text, kind", [
    ("AAPL fell 0.9% this week.", "direction"),
    ("AAPL rose 1.9% this week.", "number"),
    ("AAPL moved -0.9%.", "number"),                            # wrong sign
    ("AAPL closed at $5.78.", "number"),
    ("AAPL touched a high of $5.67.", "number"),              # the open's value called the high
    ("AAPL rose 0.9%, worth 12.00.", "number"),                # a number tied to no field
    ("AAPX rose 0.9%.", "ticker"),
    ("GOOG rose 0.9%.", "ticker"),
    ("IBM was the best performer of the four.", "comparison"),
    ("It was the worst performer of the four.", "comparison"),
    ("In the week of March 14, 2005, AAPL rose 0.9%.", "date"),
    ("IBM was the worst performer, up 3.1%.", "ticker"),      # a fact about another ticker
])
def test_checker_names_the_wrong_fact(text, kind):
    errors = check(text, REC)
    assert errors and all(e.startswith(kind) for e in errors), errors


def test_checker_rounding_tolerance():
    assert check("AAPL closed at $5.72, up 0.9%. It peaked at $5.8 and opened at $6.", REC) == []
    assert check("AAPL closed at $5.7.", REC) == []        # 5.7188 rounds to 5.7
    assert check("AAPL closed at $5.6.", REC)
    assert check("AAPL rose 0.86%.", REC) == [] and check("AAPL rose 0.84%.", REC)
    assert check("AAPL was the best performer; IBM was the weakest of the four.", REC) == []


def test_error_summary_counts_texts_with_errors():
    s = error_summary(["AAPL rose 0.9%.", "AAPL fell 0.9%.", "AAPL fell 9.9%."], [REC] * 3)
    assert s["n"] == 3 and s["with_errors"] == 2 and s["error_rate"] == pytest.approx(2 / 3)
    assert s["by_kind"] == {"direction": 2, "number": 1} and s["errors"][0] == []
    with pytest.raises(ValueError, match="one record per text"):
        error_summary(["a"], [])


def test_format_limits():
    assert format_ok("HOST: Apple.\nANALYST: It rose 0.9%.", "script")
    assert not format_ok("It rose 0.9%.", "script")
    assert not format_ok("x" * 281, "post") and format_ok("x" * 280, "post")
    assert not format_ok("Apple up\nagain", "headline")
    with pytest.raises(ValueError, match="format"):
        format_ok("x", "tweet")


# ---- placeholders and diversity ----------------------------------------------------------------------
def test_fill_and_delexicalise_round_trip(recs):
    for seed in range(300):
        rng = random.Random(seed)
        rec = recs[rng.randrange(len(recs))]
        text = write(rec, FORMATS[seed % 4], rng)
        assert fill(delexicalise(text, rec), rec) == text
        assert not any(ch.isdigit() for ch in delexicalise(text, rec).replace("#", ""))
    with pytest.raises(ValueError, match="unknown placeholder"):
        fill("<PRICE>", REC)


def test_distinct_n():
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["a b", "a b"], 2) == pytest.approx(1 / 2)
    assert distinct_n([], 2) == 0.0
    with pytest.raises(TypeError):
        distinct_n("a b", 2)


def test_generator_is_more_diverse_than_the_template(recs):
    sample = recs[:200]
    varied = [write(r, "report", random.Random(i)) for i, r in enumerate(sample)]
    single = [template_text(r, "report") for r in sample]
    assert distinct_n(varied, 2) > distinct_n(single, 2)        # numbers differ in both: a small gap
    phrasing = [delexicalise(t, r) for t, r in zip(varied, sample)]
    frame = [delexicalise(t, r) for t, r in zip(single, sample)]
    assert distinct_n(phrasing, 2) > 5 * distinct_n(frame, 2)
    assert len({write_template(sample[0], "report", random.Random(i)) for i in range(50)}) > 30


# ---- the conditioned GPT -----------------------------------------------------------------------------
TINY = dict(n_layer=1, n_head=2, n_embd=32, batch_size=4)


def test_pairs_mask_the_record_and_pack_placeholders(recs):
    pairs = d2t.make_pairs(recs[:20], delex=True, per_record=2, seed=0)
    assert len(pairs) == 40 and all(p.startswith("<") and p.endswith(d2t.SEP) for p, _ in pairs)
    assert not any("<" in t or any(c.isdigit() for c in t) for _, t in pairs)
    run = d2t.train(pairs, delex=True, steps=2, seed=0, **TINY)
    x, y = d2t._batches(d2t._encode(pairs[:1], run.tok), 1, torch.Generator().manual_seed(0))()
    n_prompt = len(run.tok.encode(pairs[0][0]))
    assert (y[0, :n_prompt - 1] == -1).all() and (y[0, n_prompt - 1:] >= 0).all()
    with pytest.raises(ValueError, match="format"):
        d2t.prompt(recs[0], "tweet")
    with pytest.raises(ValueError, match="unknown option"):
        d2t.train(pairs, delex=True, steps=1, width=3)


def test_generation_gives_one_text_per_record(recs):
    for delex in (False, True):
        pairs = d2t.make_pairs(recs[:30], delex=delex, per_record=2, seed=0)
        run = d2t.train(pairs, delex=delex, steps=3, seed=0, **TINY)
        held = recs[-3:]
        texts = d2t.generate(run, held, "headline", seed=0)
        assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
        assert all(d2t.EOS not in t and not any(0xE000 <= ord(c) < 0xF000 for c in t) for t in texts)
        if delex:
            assert d2t.generate(run, held, "headline", seed=0) == texts    # seeded


def test_constrained_decoding_never_writes_a_contradicting_word(recs):
    from course_lib.reports.checker import DOWN, FLAT, UP
    pairs = d2t.make_pairs(recs[:40], delex=True, per_record=2, seed=0)
    run = d2t.train(pairs, delex=True, steps=2, seed=0, **TINY)          # untrained: says anything
    held = [r for r in recs[-40:] if r.ticker not in (r.best, r.worst)][:6]
    wrong = {"up": DOWN | FLAT, "down": UP | FLAT, "flat": UP | DOWN}
    free = d2t.generate(run, held, "report", seed=1, temperature=3.0)
    fixed = d2t.generate(run, held, "report", seed=1, temperature=3.0, constrained=True)
    said = lambda texts: [{w.strip().lower() for w in d2t.WordDigitTokenizer.split(t)} for t in texts]
    for words, rec, text in zip(said(fixed), held, fixed):
        assert not words & wrong[rec.direction]
        assert not [e for e in check(text, rec) if e.startswith(("direction", "comparison: says"))], text
    assert any(words & wrong[rec.direction] for words, rec in zip(said(free), held))   # the test can fail


def test_constraint_ties_price_placeholders_to_their_cue():
    from course_lib.reports.constrained import FactConstraint
    tokens = [" opened", " at", " $", "<OPEN>", "<CLOSE>", ".", " high", " rose", " fell"]
    itos = dict(enumerate(tokens))
    ph = {"<OPEN>": "<OPEN>", "<CLOSE>": "<CLOSE>"}
    rule = FactConstraint(itos, [record_from_dict(REC)], ph)
    banned = lambda: {itos[i] for i in range(len(tokens)) if rule.banned()[0, i]}
    assert {"<OPEN>", "<CLOSE>", " fell"} <= banned() and " rose" not in banned()    # no cue yet; week was up
    rule.update(torch.tensor([0]))                                                  # " opened"
    assert "<OPEN>" not in banned() and "<CLOSE>" in banned()
    rule.update(torch.tensor([5]))                                                  # "." ends the sentence
    assert "<OPEN>" in banned()


def test_word_digit_tokens_keep_every_character():
    tok = d2t.WordDigitTokenizer.from_texts(["AAPL rose 2.3%"])
    assert [tok.itos[i] for i in tok.encode("AAPL rose 3.2%")] == ["AAPL", " rose", " 3", ".", "2", "%"]
    assert tok.decode(tok.encode("AAPL rose 98.7%")) == "AAPL rose 98.7%"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("AAPL fell")


def test_perturb_needs_a_fact():
    with pytest.raises(ValueError, match="no fact"):
        perturb("A quiet week.", random.Random(0))


# ---- checkpoints, `genai-course train data_to_text`, the zoo's Run -------------------------------------

def test_a_saved_run_comes_back_and_writes_the_same_texts(recs, tmp_path):
    from course_lib import checkpoints
    from course_lib.tokenizers import tokenizer_from_meta
    pairs = d2t.make_pairs(recs[:30], delex=True, per_record=2, seed=0)
    run = d2t.train(pairs, delex=True, steps=3, seed=0, **TINY)
    path = checkpoints.save(tmp_path / "d2t.pt", run.model, run.model.config_dict(), **d2t.checkpoint_meta(run))
    model, meta = checkpoints.load_with_meta(path, d2t.GPT.from_config)
    back = d2t.run_from_checkpoint(model, meta)
    assert back.delex and back.tok.itos == run.tok.itos and torch.equal(back.target_vocab, run.target_vocab)
    assert tokenizer_from_meta(meta).itos == run.tok.itos                  # what pretrained.tokenizer(name) uses
    held = recs[-4:]
    for constrained in (False, True):
        assert d2t.generate(back, held, "post", seed=3, constrained=constrained) == \
            d2t.generate(run, held, "post", seed=3, constrained=constrained)
    with pytest.raises(ValueError, match="not written by the data-to-text recipe"):
        d2t.run_from_checkpoint(model, {"tokenizer": {"type": "char", "chars": ["a"]}})
    small = d2t.GPT(d2t.GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match=f"has {run.tok.vocab_size} tokens but the model's vocabulary is 5"):
        d2t.run_from_checkpoint(small, meta)


def test_heldout_loss_counts_only_the_text(recs):
    pairs = d2t.make_pairs(recs[:30], delex=True, per_record=2, seed=0)
    run = d2t.train(pairs, delex=True, steps=2, seed=0, **TINY)
    (x, y), = [d2t._batches(d2t._encode(pairs[:1], run.tok), 1, torch.Generator())()]
    with torch.no_grad():
        _, reference = run.model(x, y)                   # the training loss: record masked out (-1)
    assert d2t.heldout_loss(run, pairs[:1]) == pytest.approx(reference.item(), rel=1e-5)
    assert d2t.heldout_loss(run, pairs, max_pairs=5) != d2t.heldout_loss(run, pairs, max_pairs=6)


def test_cli_trains_and_samples_a_data_to_text_model(tmp_path, capsys):
    from course_lib import checkpoints, cli, data
    out = tmp_path / "d2t.pt"
    tiny = [f"--option={k}={v}" for k, v in TINY.items()]
    assert cli.main(["train", "data_to_text", "--dataset", "stocks", "--steps", "3", "--out", str(out), *tiny]) == 0
    meta = checkpoints.read(out)["meta"]
    assert meta["family"] == "data_to_text" and meta["delex"] is True and meta["steps"] == 3
    assert meta["tokenizer"]["type"] == "word_digit" and meta["heldout_loss"] > 0
    capsys.readouterr()
    texts = tmp_path / "texts.txt"
    assert cli.main(["sample", str(out), "--n", "3", "--option", "format=headline", "--out", str(texts)]) == 0
    shown = capsys.readouterr().out.splitlines()
    held = data.load("stocks", split="test")[:3]
    assert [line.split(":")[0] for line in shown] == [f"{r.ticker} {r.week}" for r in held]
    assert len(texts.read_text(encoding="utf-8").splitlines()) == 3
    with pytest.raises(SystemExit, match="trains on 'stocks'"):
        cli.main(["train", "data_to_text", "--dataset", "digits", "--steps", "1", "--out", str(tmp_path / "x.pt")])
    with pytest.raises(SystemExit, match=r"unknown data_to_text option\(s\) \['width'\]"):
        cli.main(["train", "data_to_text", "--dataset", "stocks", "--steps", "1", "--option", "width=3",
                  "--out", str(tmp_path / "x.pt")])
    with pytest.raises(SystemExit, match="format must be one of"):
        cli.main(["sample", str(out), "--option", "format=tweet"])
    with pytest.raises(SystemExit, match="not a --prompt"):
        cli.main(["sample", str(out), "--prompt", "AAPL"])
    assert not (tmp_path / "x.pt").exists()                                   # nothing half-written
