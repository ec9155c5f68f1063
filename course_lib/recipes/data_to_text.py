"""Data-to-text with the course GPT: a linearised record in, a report (or headline, post, script) out.

The GPT is unconditional; conditioning is a prefix, as in notebook 08's captioner: each training
sequence is "<fmt> record SEP text EOS", and the loss counts only the text's tokens (the record is given,
not predicted). To write, feed "<fmt> record SEP" and sample until EOS.

Tokens: whole words (with their leading space) and single digits and marks (`WordDigitTokenizer`). A
character model spends a 150 s budget learning to spell; with word tokens it learns the facts, and it
still has to copy every number digit by digit, which is where a plain model goes wrong. In the
delexicalised variant each placeholder (<CLOSE>, ...) is one token (a private-use character), so the
model copies no digits at all and `fill` writes the record's values in.

    pairs = make_pairs(train_records, delex=True, per_record=6, seed=0)
    run = train(pairs, delex=True, seconds=150, seed=0)          # Run(model, tok, delex, history)
    texts = generate(run, held_out_records, "report", seed=0)    # filled, ready for the checker
    run = pretrained.load_d2t_run("stocks-reports")              # the zoo's (1,500 steps), offline
    run = pretrained.load_d2t_run("stocks-reports", train_tiny)  # ... or train_tiny() under COURSE_FAST=1

`genai-course train data_to_text --dataset stocks --steps 1500 --out R.pt` is the same training from the
command line (scripts/train_pretrained.py trains the zoo's that way); `genai-course sample R.pt`.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

import torch

from course_lib.data.stocks import WeekRecord, linearise
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.reports.checker import LIMITS
from course_lib.reports.delex import PLACEHOLDERS, fill
from course_lib.reports.phrasing import FORMATS, write_template
from course_lib.tokenizers import WordDigitTokenizer  # noqa: F401  (re-exported: d2t.WordDigitTokenizer)

SEP, EOS = "\x1d", "\x1e"                                     # group and record separators: never in a text
_PH = {p: chr(0xE000 + i) for i, p in enumerate(PLACEHOLDERS)}  # placeholder -> one private-use character
_PH_BACK = {c: p for p, c in _PH.items()}
# 3 layers of 96 (0.39M parameters), batch 12, AdamW 2e-3 with a cosine decay: 1,100 steps took 92 s on one
# CPU thread of a busy machine (benchmarks/creative_d2t.py); chosen for speed, not tuned further
DEFAULTS = dict(n_layer=3, n_head=4, n_embd=96, batch_size=12, lr=2e-3, warmup=50, mix=(0.55, 0.15, 0.15, 0.15))


def prompt(rec: WeekRecord, fmt: str) -> str:
    """What the model is given: the control code, the linearised record and the separator."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return f"<{fmt}> {linearise(rec)}{SEP}"


def _pack(template: str) -> str:
    for p, c in _PH.items():
        template = template.replace(p, c)
    return template


def unpack(text: str) -> str:
    """Model characters -> a template with <PLACEHOLDERS> again."""
    return "".join(_PH_BACK.get(c, c) for c in text)


def make_pairs(records, *, delex: bool, per_record: int = 6, seed: int = 0,
               mix=DEFAULTS["mix"]) -> list[tuple[str, str]]:
    """(prompt, target) pairs: per_record texts per record, formats drawn with the weights `mix`
    (report, headline, post, script). Targets are filled texts, or templates when delex."""
    rng = random.Random(seed)
    pairs = []
    for rec in records:
        for _ in range(per_record):
            fmt = rng.choices(FORMATS, weights=mix)[0]
            tpl = write_template(rec, fmt, rng)
            pairs.append((prompt(rec, fmt), _pack(tpl) if delex else fill(tpl, rec)))
    return pairs


@dataclass
class Run:
    model: GPT
    tok: object
    delex: bool
    history: object = None
    target_vocab: torch.Tensor | None = None      # (V,) bool: tokens that occur in some training text


def _encode(pairs, tok):
    return [(torch.tensor(tok.encode(p + t + EOS), dtype=torch.long), len(tok.encode(p))) for p, t in pairs]


def _batches(encoded, batch_size: int, gen: torch.Generator):
    """() -> (x, y): whole pairs, right-padded; targets -1 on the record and the padding."""
    def batch():
        pick = torch.randint(0, len(encoded), (batch_size,), generator=gen).tolist()
        T = max(len(encoded[i][0]) for i in pick) - 1
        x = torch.zeros(batch_size, T, dtype=torch.long)                          # (B, T)
        y = torch.full((batch_size, T), -1, dtype=torch.long)                     # (B, T)
        for row, i in enumerate(pick):
            ids, n_prompt = encoded[i]
            x[row, :len(ids) - 1], y[row, :len(ids) - 1] = ids[:-1], ids[1:]
            y[row, :n_prompt - 1] = -1                   # the record is given: no loss on predicting it
        return x, y
    return batch


def train(pairs, *, delex: bool, steps: int | None = None, seconds: float | None = None, seed: int = 0,
          **options) -> Run:
    """Train a GPT on the pairs for a step and/or time budget. Options: DEFAULTS' keys."""
    from course_lib.train import CosineSchedule, fit
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; expected some of {sorted(DEFAULTS)}")
    opt = {**DEFAULTS, **options}
    torch.manual_seed(seed)
    tok = WordDigitTokenizer.from_texts([p + t + EOS for p, t in pairs])
    encoded = _encode(pairs, tok)
    longest = max(len(ids) for ids, _ in encoded)
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=longest + 8, n_layer=opt["n_layer"],
                    n_head=opt["n_head"], n_embd=opt["n_embd"], dropout=0.0)
    model = GPT(cfg)
    optimizer = model.configure_optimizer(opt["lr"], weight_decay=0.1)
    schedule = CosineSchedule(optimizer, opt["lr"], steps=steps, seconds=seconds, warmup=opt["warmup"], floor=0.1)
    gen = torch.Generator().manual_seed(seed)
    history = fit(model, lambda m, b: m(*b)[1], _batches(encoded, opt["batch_size"], gen), optimizer=optimizer,
                  steps=steps, seconds=seconds, grad_clip=1.0, progress=False, on_step=[schedule])
    model.eval()
    target_vocab = torch.zeros(tok.vocab_size, dtype=torch.bool)
    for ids, n_prompt in encoded:
        target_vocab[ids[n_prompt:]] = True
    return Run(model, tok, delex, history, target_vocab)


@torch.no_grad()
def generate(run: Run, records, fmt: str, *, seed: int = 0, temperature: float = 0.8, chunk: int = 48,
             constrained: bool = False) -> list[str]:
    """One text per record (filled when the run is delexicalised), in the records' order. Records whose
    prompts have the same length are sampled together; sampling stops when every row has ended.
    constrained=True samples through course_lib.reports.constrained (no word that contradicts the record)
    and only from tokens some training text contains."""
    if constrained:
        return _generate_constrained(run, list(records), fmt, seed=seed, temperature=temperature)
    records = list(records)
    gen = torch.Generator().manual_seed(seed)
    max_new = LIMITS[fmt] + 20
    groups: dict[int, list[int]] = {}
    prompts = [run.tok.encode(prompt(r, fmt)) for r in records]
    for i, p in enumerate(prompts):
        groups.setdefault(len(p), []).append(i)
    eos = run.tok.encode(EOS)[0]
    out = [""] * len(records)
    for n, idx in sorted(groups.items()):
        x = torch.tensor([prompts[i] for i in idx], dtype=torch.long)                 # (b, n)
        room = run.model.config.block_size - n
        while x.size(1) - n < min(max_new, room) and not (x[:, n:] == eos).any(dim=1).all():
            x = run.model.generate(x, min(chunk, room - (x.size(1) - n)), temperature=temperature, generator=gen)
        for row, i in enumerate(idx):
            text = run.tok.decode(x[row, n:].tolist()).split(EOS)[0]
            out[i] = _finish(text, records[i], run.delex)
    return out


def _generate_constrained(run: Run, records, fmt: str, *, seed: int, temperature: float) -> list[str]:
    from course_lib.models.gpt import KVCache, sample_next
    from course_lib.reports.constrained import FactConstraint
    gen = torch.Generator().manual_seed(seed)
    model, eos = run.model, run.tok.encode(EOS)[0]
    prompts = [run.tok.encode(prompt(r, fmt)) for r in records]
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        groups.setdefault(len(p), []).append(i)
    out = [""] * len(records)
    for n, idx in sorted(groups.items()):
        rule = FactConstraint(run.tok.itos, [records[i] for i in idx], _PH)
        if run.target_vocab is not None:                 # and nothing no training text contains (digits, for
            rule.always |= ~run.target_vocab[None]       # a delexicalised model; record keys such as "ticker=")
        cache = KVCache(model.config.n_layer)
        logits, _ = model(torch.tensor([prompts[i] for i in idx], dtype=torch.long), cache=cache)   # (b, n, V)
        new, done = [], torch.zeros(len(idx), dtype=torch.bool)
        for _ in range(min(LIMITS[fmt] + 20, model.config.block_size - n)):
            last = logits[:, -1, :].masked_fill(rule.banned(), float("-inf"))                      # (b, V)
            nxt = sample_next(last, temperature, generator=gen)                                   # (b, 1)
            rule.update(nxt[:, 0])
            new.append(nxt)
            done |= nxt[:, 0] == eos
            if done.all():
                break
            logits, _ = model(nxt, cache=cache)
        ids = torch.cat(new, dim=1)
        for row, i in enumerate(idx):
            out[i] = _finish(run.tok.decode(ids[row].tolist()).split(EOS)[0], records[i], run.delex)
    return out


def _finish(text: str, rec: WeekRecord, delex: bool) -> str:
    if not delex:
        return text
    tpl = unpack(text)
    try:
        return fill(tpl, rec)
    except ValueError:                       # cannot happen with packed placeholders; keep the text as written
        return tpl


# ----------------------------------------------------------------------------- checkpoints, the CLI, the zoo

ZOO_NAME = "stocks-reports"          # the zoo's delexicalised model (scripts/train_pretrained.py)
TRAIN_OPTIONS = ("delex", "per_record")


def checkpoint_meta(run: Run) -> dict:
    """What a checkpoint needs besides the weights to give the Run back: the tokenizer's tokens in id
    order, whether it writes placeholders, and the ids some training text contains (constrained decoding)."""
    vocab = run.target_vocab if run.target_vocab is not None else torch.ones(run.tok.vocab_size, dtype=torch.bool)
    return {"tokenizer": {"type": "word_digit", "tokens": [run.tok.itos[i] for i in range(run.tok.vocab_size)]},
            "delex": bool(run.delex), "target_vocab": vocab.nonzero().flatten().tolist()}


def run_from_checkpoint(model: GPT, meta: dict) -> Run:
    """A Run (for `generate`) from a loaded model and its checkpoint's meta (see `checkpoint_meta`)."""
    tok_meta = meta.get("tokenizer") or {}
    if tok_meta.get("type") != "word_digit" or "delex" not in meta or "target_vocab" not in meta:
        raise ValueError("this checkpoint was not written by the data-to-text recipe: its meta needs a word_digit "
                         f"tokenizer, 'delex' and 'target_vocab'; got keys {sorted(meta)}")
    tok = WordDigitTokenizer(tok_meta["tokens"])
    if tok.vocab_size != model.config.vocab_size:
        raise ValueError(f"the checkpoint's tokenizer has {tok.vocab_size} tokens but the model's vocabulary is "
                         f"{model.config.vocab_size}")
    vocab = torch.zeros(tok.vocab_size, dtype=torch.bool)
    vocab[torch.tensor(meta["target_vocab"], dtype=torch.long)] = True
    return Run(model.eval(), tok, bool(meta["delex"]), None, vocab)


def heldout_loss(run: Run, pairs, max_pairs: int | None = None) -> float:
    """Mean next-token loss (nats) over the text tokens of (prompt, target) pairs, record not counted:
    teacher forcing, no sampling, so any change in the weights moves it."""
    encoded = _encode(pairs[:max_pairs], run.tok)
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, n_prompt in encoded:
            logits, _ = run.model(ids[None, :-1])                                   # (1, T, V)
            logp = torch.log_softmax(logits[0, n_prompt - 1:], dim=-1)            # (T - n_prompt + 1, V)
            total -= logp.gather(1, ids[n_prompt:, None]).sum().item()
            count += len(ids) - n_prompt
    return total / count


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out, options: dict) -> dict:
    """`genai-course train data_to_text --dataset stocks --steps 1500 --out CKPT`: a GPT writing reports from
    weekly records. Options: delex (default true: placeholders, filled from the record), per_record (texts
    per training record, default 6) and DEFAULTS' keys. Returns steps, seconds, final and held-out loss."""
    from course_lib import checkpoints, config, data
    from course_lib.samples import check_options
    if dataset != "stocks":
        raise SystemExit(f"error: the data_to_text family trains on 'stocks' (weekly records), got {dataset!r}")
    check_options("data_to_text", options, set(DEFAULTS) | set(TRAIN_OPTIONS))
    options = dict(options)
    delex, per_record = bool(options.pop("delex", True)), int(options.pop("per_record", 6))
    if "mix" in options:
        raise SystemExit("error: the format mix cannot be set from the command line (use make_pairs in Python)")
    config.seed_everything(seed)
    if steps is None and seconds is None:
        steps = config.budget(1500, 20)
    train_recs, held = data.load("stocks", split="train"), data.load("stocks", split="test")
    pairs = make_pairs(train_recs, delex=delex, per_record=per_record, seed=seed)
    run = train(pairs, delex=delex, steps=steps, seconds=seconds, seed=seed, **options)
    loss = heldout_loss(run, make_pairs(held, delex=delex, per_record=1, seed=seed), max_pairs=64)
    h = run.history
    summary = {"steps": len(h.steps), "seconds": round(h.seconds, 1), "final_loss": round(h.loss[-1], 4),
               "heldout_loss": round(loss, 4)}
    checkpoints.save(out, run.model, run.model.config_dict(), family="data_to_text", dataset=dataset,
                     per_record=per_record, **checkpoint_meta(run), **summary)
    return summary


def cli_sample(path, *, n: int, seed: int, out, options: dict) -> str:
    """`genai-course sample CKPT --n 4 --option format=headline`: texts for the first n held-out weeks'
    records, each followed by the checker's verdict. Options: format (report), temperature (0.8),
    constrained (true). --out writes the texts (UTF-8), one per line."""
    from pathlib import Path

    from course_lib import checkpoints, data
    from course_lib.reports import check
    from course_lib.samples import check_options
    if options.pop("prompt", None) is not None:
        raise SystemExit("error: a data-to-text model writes from records, not a --prompt: "
                         "give --option format=report|headline|post|script")
    options.pop("n_tokens", None)
    check_options("data_to_text sampling", options, ("format", "temperature", "constrained"))
    fmt = options.get("format", "report")
    if fmt not in FORMATS:
        raise SystemExit(f"error: format must be one of {FORMATS}, got {fmt!r}")
    model, meta = checkpoints.load_with_meta(path, GPT.from_config)
    run = run_from_checkpoint(model, meta)
    recs = data.load("stocks", split="test")[:n]
    texts = generate(run, recs, fmt, seed=seed, temperature=float(options.get("temperature", 0.8)),
                     constrained=bool(options.get("constrained", True)))
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text("".join(t.replace("\n", " / ") + "\n" for t in texts), encoding="utf-8")
        tmp.replace(out)
    return "\n".join(f"{r.ticker} {r.week}: {t!r} -> {check(t, r) or 'no error found'}" for r, t in zip(recs, texts))
