"""Memorisation and privacy of a small GPT (issue 22 items 1, 3, 4) -> benchmarks/results/privacy_lm.json.

Data: unique Shakespeare lines of at least 20 characters (deduplicated, so a line is one membership unit and
members and non-members never share a line), members drawn from them, non-members a disjoint held-out set.
Canaries "the secret code is d d d d d d" (|R| = 10**6) are planted REPS times each (0 = a control never seen).
Model: a character GPT (2 layers, 4 heads, 64 wide, block 48: a line is one example, read after a newline),
AdamW with cosine decay, batch 32, one CPU thread, seed 0. Each run: validation loss on held-out lines, canary
exposure (2,000 sampled candidates; the skew-normal extrapolation beside it), extraction of each secret within
10 guesses (beam search) and by greedy decoding, the loss-threshold membership attack (AUC, TPR at 1% and 0.1%
FPR on 1,000 members and 2,000 non-members), verbatim extraction (longest common substring with the training
text of a 27-character greedy continuation of a line's first 20 characters; 100 training lines vs 100 held-out).
Runs: training-set size (250, 1,000, 4,000 lines at 400 steps), training length (100, 400, 800 steps at 1,000
lines: early stopping), deduplication (1,000 lines, 400 steps, exact repeats removed after planting: every
canary is seen once), and DP-SGD (written by hand, course_lib.ethics.dp) at 1,000 lines, 400 steps,
Poisson rate 32/N, clip 1.0, noise for epsilon = 8 at delta = 1e-5 per line.

    python benchmarks/privacy_lm.py                 # about 10 minutes on 1 thread of a loaded 2-core machine
    python benchmarks/privacy_lm.py --only dedup    # rerun the runs of one kind, keep the other recorded rows
    COURSE_FAST=1 python benchmarks/privacy_lm.py   # smoke run: seconds, nothing written
"""
from __future__ import annotations

import json
import os
import random
import sys
import time

import torch

from course_lib import bench, config, data
from course_lib.ethics import canaries as cn
from course_lib.ethics import dp
from course_lib.ethics import membership as mi
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.tokenizers import CharTokenizer

REPS = (0, 1, 2, 5, 10, 20, 50)
BLOCK = 48
RUNS = [("size", 250, 400), ("size", 1000, 400), ("size", 4000, 400), ("length", 1000, 100),
        ("length", 1000, 800), ("dedup", 1000, 400)]
DP_RUN = (1000, 400, 8.0, 1e-5)           # lines, steps, target epsilon, delta


def load() -> float:
    return round(os.getloadavg()[0], 1)


def lines_pool(seed: int = 0) -> list[str]:
    text = data.load("shakespeare", split="train")
    seen, out = set(), []
    for line in text.split("\n"):
        line = line.strip()
        if len(line) >= 20 and line not in seen:
            seen.add(line)
            out.append(line[: BLOCK - 1])
    random.Random(seed).shuffle(out)
    return out


def evaluate(model, tok, members, nonmembers, val_lines, secrets, n_mi: int, n_cand: int, n_verb: int) -> dict:
    row = {"val_loss": round(float(mi.line_losses(model, tok, val_lines).mean()), 4)}
    lm = mi.line_losses(model, tok, members[:n_mi])
    ln = mi.line_losses(model, tok, nonmembers[:2 * n_mi])
    sm, sn = mi.loss_threshold_scores(lm), mi.loss_threshold_scores(ln)
    row.update(mia_auc=round(mi.roc_auc(sm, sn), 3), tpr_at_1pct=round(mi.tpr_at_fpr(sm, sn, 0.01), 3),
               tpr_at_0_1pct=round(mi.tpr_at_fpr(sm, sn, 0.001), 3), train_loss_members=round(float(lm.mean()), 4))
    guesses = cn.likeliest_secrets(model, tok, 10)
    greedy = cn.extract_secret(model, tok)
    for k, s in zip(REPS, secrets):
        e = cn.exposure(model, tok, s, samples=n_cand, seed=1)
        row[f"exposure_rep{k}"] = round(e["exposure"], 2)
        row[f"exposure_extrap_rep{k}"] = round(e["exposure_extrapolated"], 2)
        row[f"in_10_guesses_rep{k}"] = e["secret"] in guesses
        row[f"greedy_rep{k}"] = greedy == e["secret"]
    corpus = "\n".join(members)
    vm = cn.verbatim_extraction(model, tok, members[:n_verb], corpus, prefix_chars=20, n_chars=27)
    vn = cn.verbatim_extraction(model, tok, nonmembers[-n_verb:], corpus, prefix_chars=20, n_chars=27)
    row.update(lcs_train_mean=round(sum(vm) / len(vm), 2), lcs_heldout_mean=round(sum(vn) / len(vn), 2),
               lcs_train_full27=sum(v >= 27 for v in vm), lcs_heldout_full27=sum(v >= 27 for v in vn))
    return row


def main(only: str | None = None) -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    pool = lines_pool()
    tok = CharTokenizer.from_text(data.load("shakespeare", split="train"))
    secrets = cn.random_secrets(len(REPS), seed=22)
    nonmembers, val_lines, train_pool = pool[:2000], pool[2000:2500], pool[2500:]
    n_mi, n_cand, n_verb = (config.budget(1000, 50), config.budget(2000, 50), config.budget(100, 5))
    runs = [("size", 60, 20)] if fast else RUNS
    dp_lines, dp_steps, target_eps, delta = (60, 5, 8.0, 1e-5) if fast else DP_RUN
    rows = []
    for kind, n_lines, steps in runs + [("dp", dp_lines, dp_steps)]:
        if only is not None and kind != only:
            continue
        members = train_pool[:n_lines]
        planted = cn.plant(members, {cn.canary_line(s): k for s, k in zip(secrets, REPS)}, seed=0)
        if kind == "dedup":
            planted = cn.deduplicate(planted)
        x, y = dp.encode_lines(planted, tok, BLOCK)
        torch.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=BLOCK, n_layer=2, n_head=4, n_embd=64))
        row = {"run": kind, "lines": n_lines, "lines_with_canaries": len(planted), "steps": steps}
        cfg = None
        if kind == "dp":
            q = 32 / len(planted)
            sigma = dp.noise_for_epsilon(target_eps, steps, sample_rate=q, delta=delta)
            cfg = dp.DPConfig(noise_multiplier=sigma, max_grad_norm=1.0, sample_rate=q)
            eps = dp.epsilon(steps, sample_rate=q, noise_multiplier=sigma, delta=delta)
            row.update(noise_multiplier=round(sigma, 3), epsilon=round(eps, 2), delta=delta,
                       epsilon_for_rep50_group=round(50 * eps, 1))
        t0, l0 = time.time(), load()
        dp.fit_lines(model, x, y, steps=steps, batch_size=32, lr=2e-3, dp=cfg, seed=0)
        row.update(train_seconds=round(time.time() - t0, 1), load=l0)
        row.update(evaluate(model, tok, members, nonmembers, val_lines, secrets, n_mi, n_cand, n_verb))
        rows.append(row)
        print({k: v for k, v in row.items() if not k.startswith(("exposure_extrap", "greedy"))}, flush=True)
    notes = [
        "Membership unit, canary unit and DP unit: one line (at most 47 characters, read after a newline).",
        "Exposure: sampled estimate from 2,000 uniform candidates (saturates at log2(2001) = 10.97 bits);"
        " exposure_extrap: skew-normal fit to the candidates' log-perplexities (Carlini et al. 2019, 4.3.2),"
        " capped at log2(10**6) = 19.93 bits. An unseen canary's expected exposure is about 1.4 bits.",
        "DP-SGD by hand (torch.func per-example gradients): Opacus 1.6.0 installs beside torch 2.13.0 but its"
        " per-sample gradient of the GPT's learned position embedding (called on positions, without a batch"
        " dimension) takes the positions for the batch, and the optimizer step fails (stack size mismatch).",
        "Epsilon from a hand-written RDP accountant (integer orders 2..256, Balle et al. 2020 conversion); it"
        " agrees with Opacus's RDPAccountant to within 0.4% (2.108 vs 2.101 at q=0.01, sigma=1, 1000 steps).",
        "epsilon protects ONE line: a canary repeated k times is protected only at about k * epsilon (group"
        " privacy), so the rep-50 canary has no meaningful guarantee at epsilon 8 (50 x 8 = 400).",
    ]
    if only is not None and not fast:                # keep the recorded rows of the other kinds, in order
        old = json.loads((bench.RESULTS_DIR / "privacy_lm.json").read_text())["rows"]
        kept = [r for r in old if r["run"] != only]
        at = next((i for i, r in enumerate(kept) if r["run"] == "dp"), len(kept))
        rows = kept[:at] + rows + kept[at:]
        notes.append(f"Rows of kind {only!r} rerun on their own with --only (same seeds, same code).")
    return bench.record("privacy_lm", title="Memorisation, membership inference and DP-SGD on a character GPT",
                        command="python benchmarks/privacy_lm.py", rows=rows, notes=notes)


if __name__ == "__main__":
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    raise SystemExit(main(only))
