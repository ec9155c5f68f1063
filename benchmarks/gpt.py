"""Benchmark the GPT family against issue 5's targets and write benchmarks/results/gpt.json.

Targets (bundled Shakespeare, character level, this CPU):
  - validation loss <= 1.75 nats per character after 180 s of training (nanoGPT's documented CPU recipe:
    about 1.90 in about 200 s here);
  - KV-cache generation of 500 tokens >= 3x faster than recomputing the context every step.
Training goes through the same code as `genai-course train gpt` (course_lib.recipes.gpt.cli_train).

    python benchmarks/gpt.py                 # 180 s of training, then the generation timings
    COURSE_FAST=1 python benchmarks/gpt.py   # a smoke run: 10 s (figures are not the targets; nothing written)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from course_lib import bench, config
from course_lib.models import gpt as gpt_lib
from course_lib.recipes import gpt as recipe

LOSS_TARGET, SPEEDUP_TARGET, N_TOKENS = 1.75, 3.0, 500


def time_generation(model, n_tokens: int, use_cache: bool) -> float:
    """Seconds to greedily extend a one-token prompt by n_tokens (best of two runs)."""
    prompt = torch.zeros(1, 1, dtype=torch.long)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        model.generate(prompt, n_tokens, temperature=0, use_cache=use_cache)
        best = min(best, time.perf_counter() - t0)
    return best


def generation_row(model, label: str, n_tokens: int, target: bool) -> dict:
    """target=False: shown for information (the model's context is shorter than the generation)."""
    slow, fast = time_generation(model, n_tokens, False), time_generation(model, n_tokens, True)
    met = ("yes" if slow / fast >= SPEEDUP_TARGET else "no") if target else "-"
    return {"what": f"KV-cache speed-up, {n_tokens} tokens: {label}", "value": f"{slow / fast:.1f}x",
            "target": f">= {SPEEDUP_TARGET:.0f}x" if target else "- (context < generation)", "met": met,
            "detail": f"no cache {slow:.2f} s, KV cache {fast:.2f} s"}


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch threads (default: every core; use 1 when other jobs share the machine)")
    args = parser.parse_args(argv)
    config.set_threads(args.threads)
    seconds = config.budget(180.0, 10.0)
    n_tokens = config.budget(N_TOKENS, 50)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gpt.pt"
        summary = recipe.cli_train(dataset="shakespeare", seconds=seconds, steps=None, seed=0, out=path,
                                    options={})
        model = gpt_lib.GPT.from_checkpoint(path)
    print(summary, flush=True)
    cfg = model.config
    val = summary["val_loss (nats/char)"]
    rows = [{"what": f"validation loss after {seconds:.0f} s (nats/char)", "value": f"{val:.3f}",
             "target": f"<= {LOSS_TARGET}", "met": "yes" if val <= LOSS_TARGET else "no",
             "detail": f"{summary['steps']} steps, {summary['parameters']:,} parameters, "
                       f"1-min load average {os.getloadavg()[0]:.1f} on 2 cores"}]
    torch.manual_seed(0)                   # speed does not depend on the weights: an untrained long-context twin
    long_model = gpt_lib.GPT(gpt_lib.GPTConfig(**{**vars(cfg), "block_size": 512})).eval()
    rows.append(generation_row(long_model, "context 512 covers the generation (same width, untrained)", n_tokens,
                               target=True))
    rows.append(generation_row(model, f"the trained model, context {cfg.block_size}", n_tokens, target=False))
    for r in rows:
        print(r, flush=True)
    notes = [
        f"Training: {seconds:.0f} s on {torch.get_num_threads()} CPU thread(s) through course_lib.recipes.gpt.cli_train "
        "(same as `genai-course train gpt --dataset shakespeare --seconds 180`): character tokenizer (80 symbols), "
        f"{cfg.n_layer} layers, {cfg.n_head} heads, {cfg.n_embd} wide, block {cfg.block_size}, batch 32, AdamW "
        "lr 2e-3 (100 warm-up steps, cosine decay to 10% over the time budget), grad clip 1, no dropout.",
        "Validation loss: mean next-character loss over up to 1,600 consecutive 64-character windows of the "
        "held-out plays (the split is by play, so no line is shared with training).",
        "The detail column gives the 1-minute load average at the end of training: with 2 threads on 2 cores, "
        "a value above about 2.5 means another job was competing and the step count (hence the loss) suffered.",
        "KV cache: greedy decoding of a 1-token prompt, best of two runs each; the cache is a preallocated buffer "
        "per layer that each step writes one row of (gpt.KVCache). The target row uses a model whose context (512) "
        "covers all 500 tokens, so without a cache every step re-runs the whole text so far; the speed does not depend "
        "on the weights, so an untrained twin of the trained model serves. The trained model sees only 64 tokens: "
        "without a cache a step re-runs 64 tokens, and the cached path restarts from a half window (32 tokens) "
        "whenever its cache is full (learned absolute positions cannot slide). At that size a cached step costs "
        "about 0.9 ms of per-operation overhead (about 100 small operations) against about 2.2 ms for 64 tokens, "
        "so the ceiling there is about 2.6x on this CPU (1 thread); measured with other block sizes (untrained, "
        "1 thread): 128 tokens 3.2x, 256 tokens 5.6x.",
        "Tried for a longer trained context (180 s, 1 thread, load 1.9): block 256 batch 8: 1,119 steps, validation "
        "2.145; block 128 batch 16: 1,357 steps, 1.751 (against block 64 batch 32, 2 threads: 1.547). At this budget "
        "the short context trains best.",
    ]
    return bench.record("gpt", title="GPT (issue 5): validation loss in 180 s and KV-cache speed-up",
                        command=" ".join(["python benchmarks/gpt.py", *(sys.argv[1:] if argv is None else argv)]),
                        rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
