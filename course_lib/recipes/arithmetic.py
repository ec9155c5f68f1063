"""Training recipe for the arithmetic GPTs of notebook 13: the course GPT learns 1-3-digit addition in one of
the three formats of course_lib.education.arithmetic (plain, reversed, scratchpad) and answers greedily.

A training example is ``prompt + target + "."`` (``"358+67=" + "524" + "."`` in the reversed format), right-padded
with ``"_"``; the loss is taken on the target and the end token only (target -1 on the prompt and the padding):
the prompt is given, never predicted. Operands are drawn with 1 to 3 digits each (digit counts uniform, then a
uniform number of that length), so short and long operands are seen equally often.

Positions are rotary (``GPTConfig(pos="rope")``): attention sees only the offset between two tokens, so a
model can at least be *run* on a 4- or 5-digit sum, whose tokens sit at positions no training sequence reached.
A learned position table has no row for those positions (its untrained rows are random vectors), so a model
with learned positions cannot even express "the digit three places back" at a new position. Whether RoPE is
enough is measured, not assumed (the literature is mixed: Lee et al. 2023, Zhou et al. 2024).

    model, tok, hist = train_arith_gpt("scratchpad", seconds=150)
    outs = answer(model, tok, ["358+67="])                  # ['8+7+0=15;5+6+1=12;3+0+1=4;425']
    accuracy(model, tok, "scratchpad", digits=4, n=500)     # exact match with a Wilson 95% interval
    beyond_training(model, tok, "scratchpad", digits=7)     # the model's text next to the solver's

Defaults: 2 layers, 4 heads, 64 wide (about 100k parameters), context 128 (a 7-digit scratchpad fits), batch 64
fresh sums a step, AdamW 3e-3 with 100 warm-up steps and a cosine decay to 10%, seed 0, one CPU thread.
Trials (exact match, greedy; the 2-core machine was shared, 1-minute load average in brackets, so the step
counts are the comparable figure):
  scratchpad, 20 s   (0.6)     391 steps, loss 0.28: 0.0% on 500 3-digit sums (the steps are not yet right)
  scratchpad, 150 s  (1.3)   2,677 steps, loss 0.00: 100% [99.2, 100] 3-digit; 0.0% 4- and 5-digit (n = 500)
  plain, 150 s       (1.3)   6,952 steps, loss 0.07: 94.4% [92.0, 96.1] 3-digit; 0.0% 4- and 5-digit
  plain, 6,000 steps (3.2, 165 s): 26.9% [24.2, 29.7] 3-digit (n = 1,000): the plain answer is learnt late
                     and suddenly, so a budget 14% shorter lands before the jump (the cosine also decays sooner)
  plain, 8,000 steps (2.8, 199 s): 91.3% 3-digit (n = 1,000), over the 150 s budget (about 173 s quiet)
  plain, 6,900 steps (2.0, 113 s): 46.8% [43.7, 49.9] 3-digit (n = 1,000): the zoo's and the benchmark's
                     (chosen before the run: 6,952 steps had taken 150 s at load 1.3). The plain answer is
                     learnt late and abruptly: 26.9 / 46.8 / 91.3% at 6,000 / 6,900 / 8,000 steps, and 94.4%
                     with the cosine run by the clock (150 s), so its figure depends on the budget more
                     than the other formats', which were at 100% well inside theirs
  reversed, 6,000 steps (3.1, 106 s): 100% [99.6, 100] 3-digit (n = 1,000): at equal steps the reversed answer
                     is learnt long before the plain one (26.9%): each digit then depends only on digits before it
  scratchpad, 2,500 steps (3.1, 177 s): 100% 3-digit; 0% 4- and 5-digit (n = 1,000): the zoo's model
  (all three formats: 0 of 1,000 4-digit and 0 of 1,000 5-digit sums exact, Wilson interval [0, 0.4%])
What the longer sums show: every format fails completely past 3 digits. The scratchpad model writes exactly
three steps and stops (it learnt "a sum has at most three columns"), the others write answers of the trained
length. RoPE lets the model run at new positions; it does not teach a procedure that the training sums never
needed beyond three columns (Lee et al. 2023 and Zhou et al. 2024 need varied lengths or index hints for that).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from course_lib.education import arithmetic as ar
from course_lib.education import practice
from course_lib.education.arithmetic import check_digits as _check_digits, random_number
from course_lib.models.gpt import GPT, GPTConfig, KVCache
from course_lib.metrics.intervals import wilson
from course_lib.models.gpt.model import sample_next
from course_lib.tokenizers import CharTokenizer

PAD, END = "_", "."
CHARS = PAD + END + "0123456789+=;:dc"          # ":dc" for the practice generator's control codes ("d3c2:")
DEFAULTS = dict(n_layer=2, n_head=4, n_embd=64, block_size=128, batch_size=64, lr=3e-3, warmup=100,
                min_lr_frac=0.1, max_digits=3)


def tokenizer() -> CharTokenizer:
    """The character tokenizer every arithmetic model shares: "_" padding (id 0), "." end (id 1), digits, + = ; : d c."""
    return CharTokenizer(CHARS)


def random_pairs(n: int, rng: np.random.Generator, *, max_digits: int = 3, digits: int | None = None) -> list:
    """n operand pairs: each operand's length uniform in 1..max_digits, or both exactly `digits` long."""
    if digits is not None:
        return [(random_number(rng, digits), random_number(rng, digits)) for _ in range(n)]
    _check_digits(max_digits, "max_digits")
    lens = rng.integers(1, max_digits + 1, size=(n, 2))
    return [(random_number(rng, int(a)), random_number(rng, int(b))) for a, b in lens]


def encode_pairs(texts, tok: CharTokenizer):
    """(prompt, target) pairs -> x (B, T) input ids, y (B, T) next ids with -1 outside target + end.

    T is the longest ``prompt + target + "."`` minus one; rows are right-padded with "_"."""
    seqs = [(tok.encode(p), tok.encode(t + END)) for p, t in texts]
    T = max(len(p) + len(t) for p, t in seqs) - 1
    x = torch.zeros((len(seqs), T), dtype=torch.long)                            # (B, T), 0 = "_"
    y = torch.full((len(seqs), T), -1, dtype=torch.long)                         # (B, T)
    for row, (p, t) in enumerate(seqs):
        ids = p + t
        x[row, :len(ids) - 1] = torch.tensor(ids[:-1])
        y[row, len(p) - 1:len(ids) - 1] = torch.tensor(t)                        # predict the target only
    return x, y


def arith_batches(fmt: str, tok: CharTokenizer, batch_size: int, *, max_digits: int = 3, seed: int = 0):
    """A callable () -> (x, y) of fresh random sums in a format (no fixed training set: 1-3-digit sums
    number about a million, and a fresh draw each step means no memorising)."""
    ar.format_example(0, 0, fmt)                                                 # bad format: error here
    rng = np.random.default_rng(seed)

    def batch():
        return encode_pairs([ar.format_example(x, y, fmt) for x, y in random_pairs(batch_size, rng,
                                                                                   max_digits=max_digits)], tok)
    return batch


def train_on(batches, *, steps: int | None, seconds: float | None, seed: int, opt: dict, desc: str,
             progress: bool = False):
    """A fresh RoPE GPT trained on a batch callable -> (model in eval mode, fit History)."""
    from course_lib import config
    from course_lib.train import CosineSchedule, fit
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps, seconds or both")
    config.seed_everything(seed)
    cfg = GPTConfig(vocab_size=len(CHARS), block_size=opt["block_size"], n_layer=opt["n_layer"],
                    n_head=opt["n_head"], n_embd=opt["n_embd"], dropout=0.0, pos="rope")
    model = GPT(cfg)
    optimizer = model.configure_optimizer(opt["lr"], weight_decay=0.1)
    schedule = CosineSchedule(optimizer, opt["lr"], steps=steps, seconds=seconds, warmup=opt["warmup"],
                              floor=opt["min_lr_frac"])
    history = fit(model, lambda m, b: m(*b)[1], batches, optimizer=optimizer, steps=steps, seconds=seconds,
                  grad_clip=1.0, progress=progress, on_step=[schedule], desc=desc)
    return model.eval(), history


def options(**overrides) -> dict:
    """DEFAULTS with overrides; an unknown name is a TypeError naming the known ones."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(DEFAULTS)}")
    return {**DEFAULTS, **overrides}


def train_arith_gpt(fmt: str, *, steps: int | None = None, seconds: float | None = None, seed: int = 0,
                    progress: bool = False, **overrides):
    """Train a GPT on 1..max_digits-digit sums in a format -> (model in eval mode, tokenizer, fit History)."""
    opt = options(**overrides)
    tok = tokenizer()
    batches = arith_batches(fmt, tok, opt["batch_size"], max_digits=opt["max_digits"], seed=seed)
    model, history = train_on(batches, steps=steps, seconds=seconds, seed=seed, opt=opt,
                              desc=f"arithmetic GPT ({fmt})", progress=progress)
    return model, tok, history


@torch.no_grad()
def complete(model: GPT, tok: CharTokenizer, prompts, max_new: int | None = None, temperature: float = 0.0,
             seed: int = 0) -> list[str]:
    """Continuation of each prompt up to the end token "." (not included) -> list of str; greedy by default
    (temperature 0), sampled and seeded otherwise (the practice generator needs varied items).

    Prompts of the same length run together as one batch with the KV cache (no padding inside a prompt);
    a row stops at "." or when the context is full."""
    prompts = list(prompts)
    if not prompts or not all(isinstance(p, str) and p for p in prompts):
        raise ValueError("prompts must be a non-empty list of non-empty strings like '358+67='")
    model.eval()
    bs = model.config.block_size
    out: list[str | None] = [None] * len(prompts)
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p), []).append(i)
    end = tok.stoi[END]
    gen = torch.Generator().manual_seed(seed)
    for length, rows in by_len.items():
        if length >= bs:
            raise ValueError(f"a prompt of {length} characters does not fit the model's context of {bs}")
        idx = torch.tensor([tok.encode(prompts[i]) for i in rows], dtype=torch.long)      # (b, length)
        budget = bs - length if max_new is None else min(max_new, bs - length)
        cache, fresh, new = KVCache(model.config.n_layer), idx, []
        done = torch.zeros(len(rows), dtype=torch.bool)                                 # (b,)
        for _ in range(budget):
            logits, _ = model(fresh, cache=cache, check_ids=False)                      # (b, t, V)
            nxt = sample_next(logits[:, -1, :], temperature, None, None, gen)           # (b, 1)
            new.append(nxt)
            done |= nxt[:, 0] == end
            if bool(done.all()):
                break
            fresh = nxt
        written = torch.cat(new, dim=1).tolist() if new else [[] for _ in rows]
        for r, ids in zip(rows, written):
            text = tok.decode(ids)
            out[r] = text.split(END)[0]
    return out


def answer(model: GPT, tok: CharTokenizer, prompts) -> list[str]:
    """What the model writes after each prompt (greedy): the target text of its format."""
    return complete(model, tok, prompts)


def accuracy(model: GPT, tok: CharTokenizer, fmt: str, *, digits: int, n: int = 500, seed: int = 1234) -> dict:
    """Exact match (course_lib.education.arithmetic.verify) on n sums whose operands both have `digits` digits,
    and the share whose final answer alone is right; Wilson 95% intervals. Seeded: the same sums each call."""
    pairs = random_pairs(n, np.random.default_rng(seed + digits), digits=_check_digits(digits))
    prompts = [ar.format_example(x, y, fmt)[0] for x, y in pairs]
    outs = complete(model, tok, prompts)
    exact = sum(ar.verify(p, o, fmt) for p, o in zip(prompts, outs))
    right = sum(ar.read_answer(o, fmt) == x + y for o, (x, y) in zip(outs, pairs))
    lo, hi = wilson(exact, n)
    return {"format": fmt, "digits": digits, "n": n, "exact": exact / n, "exact_lo": lo, "exact_hi": hi,
            "answer_right": right / n}


@torch.no_grad()
def token_confidence(model: GPT, tok: CharTokenizer, prompt: str, text: str) -> float:
    """The model's mean probability of each character of ``text + "."`` after ``prompt`` (teacher forcing):
    how sure it was of what it wrote. A high value on a wrong scratchpad is a confident error."""
    ids = tok.encode(prompt + text + END)
    if len(ids) - 1 > model.config.block_size:
        raise ValueError(f"prompt + text need {len(ids) - 1} positions, the model has {model.config.block_size}")
    model.eval()
    x = torch.tensor([ids[:-1]])                                                       # (1, T)
    probs = torch.softmax(model(x)[0][0], dim=-1)                                      # (T, V)
    start = len(prompt) - 1                                                            # predicts text[0]
    chosen = probs[torch.arange(start, len(ids) - 1), torch.tensor(ids[start + 1:])]  # (len(text) + 1,)
    return float(chosen.mean())


def beyond_training(model: GPT, tok: CharTokenizer, fmt: str, *, digits: int, n: int = 5,
                    seed: int = 7) -> list[dict]:
    """The model's text next to the solver's on sums longer than it was trained on ("where it fails").

    Each row: prompt, the model's text, the right text, the answer the model states, the true sum, whether the
    verifier accepts it, (scratchpad) the first column whose step differs from the exact one (None: none;
    the number of columns: the steps are right and the answer is not), and
    the model's mean probability of the characters it wrote (token_confidence)."""
    pairs = random_pairs(n, np.random.default_rng(seed + digits), digits=_check_digits(digits))
    prompts = [ar.format_example(x, y, fmt)[0] for x, y in pairs]
    rows = []
    for (x, y), p, o in zip(pairs, prompts, complete(model, tok, prompts)):
        first_wrong = None
        if fmt == "scratchpad":
            got, right = ar.read_steps(o) or [], ar.steps(x, y)
            first_wrong = next((i for i in range(max(len(got), len(right)))
                                if i >= len(got) or i >= len(right) or got[i] != right[i]), None)
            if first_wrong is None and not ar.verify(p, o, fmt):
                first_wrong = len(right)                                # every step right, the answer not
        rows.append({"prompt": p, "model": o, "solver": ar.format_example(x, y, fmt)[1],
                     "model_answer": ar.read_answer(o, fmt), "true_sum": x + y, "verified": ar.verify(p, o, fmt),
                     "first_wrong_column": first_wrong, "confidence": token_confidence(model, tok, p, o)})
    return rows


# The practice generator (course_lib.education.practice holds the item format and the checks)

def practice_batches(tok, batch_size: int, *, max_digits: int = practice.MAX_TRAIN_DIGITS, seed: int = 0):
    """A callable () -> (x, y): a uniform code, then an item of that difficulty, as (code, item) pairs."""
    rng, codes = np.random.default_rng(seed), practice.training_codes(max_digits)

    def batch():
        texts = []
        for k in rng.integers(0, len(codes), batch_size):
            d, c = codes[int(k)]
            texts.append((practice.control_code(d, c), practice.item_text(*practice.sample_item(rng, d, c))))
        return encode_pairs(texts, tok)
    return batch


def train_practice_gpt(*, steps: int | None = None, seconds: float | None = None, seed: int = 0,
                       progress: bool = False, **overrides):
    """A GPT that writes an item after a control code -> (model in eval mode, tokenizer, fit History).
    Options as course_lib.recipes.arithmetic.DEFAULTS."""
    opt = options(**overrides)
    tok = tokenizer()
    batches = practice_batches(tok, opt["batch_size"], max_digits=opt["max_digits"], seed=seed)
    model, history = train_on(batches, steps=steps, seconds=seconds, seed=seed, opt=opt,
                                 desc="practice GPT", progress=progress)
    return model, tok, history


def generate_items(model, tok, digits: int, carries: int, n: int = 50, *, temperature: float = 1.0,
                   seed: int = 0) -> list[dict]:
    """n items the model writes for one control code (sampled, seeded), each checked by check_item."""
    code = practice.control_code(digits, carries)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    texts = complete(model, tok, [code] * n, max_new=4 * digits + 6, temperature=temperature, seed=seed)
    return [practice.check_item(t, digits, carries) for t in texts]



TASKS = (*ar.FORMATS, "practice")


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out, options: dict) -> dict:
    """`genai-course train gpt --dataset arithmetic --option task=scratchpad` (recipes.gpt hands arithmetic over to
    here): train one arithmetic model and save a checkpoint (family gpt, a char tokenizer, meta task=...).
    task: plain, reversed, scratchpad or practice (the practice generator); other options: DEFAULTS' names."""
    from course_lib import checkpoints, config
    if dataset != "arithmetic":
        raise SystemExit(f"error: the arithmetic recipe trains on generated sums, dataset 'arithmetic'; got {dataset!r}")
    opts = dict(options)
    task = str(opts.pop("task", "scratchpad"))
    if task not in TASKS:
        raise SystemExit(f"error: task must be one of {', '.join(TASKS)}; got {task!r}")
    unknown = sorted(set(opts) - set(DEFAULTS))
    if unknown:
        raise SystemExit(f"error: unknown option(s) {', '.join(unknown)}; known: task, {', '.join(DEFAULTS)}")
    opts = {k: type(DEFAULTS[k])(v) for k, v in opts.items()}
    if steps is None and seconds is None:
        steps = config.budget(2500, 50)
    if task == "practice":
        model, tok, hist = train_practice_gpt(steps=steps, seconds=seconds, seed=seed, **opts)
    else:
        model, tok, hist = train_arith_gpt(task, steps=steps, seconds=seconds, seed=seed, **opts)
    checkpoints.save(out, model, model.config_dict(), family="gpt", dataset=dataset, task=task,
                     max_digits=options.get("max_digits", DEFAULTS["max_digits"]),
                     tokenizer={"type": "char", "chars": list(CHARS)}, steps=len(hist.steps),
                     seconds=round(hist.seconds, 1))
    return {"parameters": model.num_params(), "steps": len(hist.steps), "seconds": round(hist.seconds, 1),
            "train_loss (last)": round(hist.loss[-1], 4)}
