"""Provenance by watermarking (issue 21 item 3) -> benchmarks/results/ethics_watermark.json.

Text: the zoo's character-level shakespeare-gpt; N_PROMPTS prompts of 32 characters from the held-out plays
(shakespeare "val", seed 0), continuations sampled at temperature 1 (seed 1) with and without the green-list
watermark (key 42, context 2 characters). The z threshold for each text length is calibrated on human text
(2,000 windows from the first half of the val plays, 1% target) and the false-positive rate is MEASURED on
2,000 other windows (second half) and on unwatermarked model samples. True-positive rate at that threshold
against length and against the share of tokens replaced at random; perplexity = exp(mean nats) of the
100-character continuations under the unwatermarked model, watermarked against unwatermarked samples.
Images: MNIST-5k test digits (28x28), spread-spectrum in the DCT band 16 <= u+v <= 34, threshold calibrated
on 500 unmarked digits (1%), detection rate on 500 others marked, under noise, blur, cropping and a shift.

    python benchmarks/ethics_watermark.py                  # about 2-4 minutes on one thread
    COURSE_FAST=1 python benchmarks/ethics_watermark.py    # smoke run, nothing written
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from course_lib import bench, config, data, pretrained
from course_lib.ethics import image_watermark as IW
from course_lib.ethics import watermark as W
from course_lib.metrics.intervals import wilson

torch.set_num_threads(1)
FAST = config.is_fast()
N_PROMPTS = config.budget(300, 16)
N_HUMAN = config.budget(2000, 50)
P, KEY, H = 32, 42, 2
LENGTHS = (25, 50, 100, 200)
GRID = [(0.25, d) for d in (0.5, 1.0, 1.25, 1.5, 2.0, 3.0)] + [(0.5, d) for d in (1.0, 1.5, 2.0)]
MAIN = (0.25, 1.5)
SHARES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def rate(k: int, n: int) -> dict:
    lo, hi = wilson(int(k), int(n))
    k, n = int(k), int(n)
    return {"rate": round(k / n, 4), "ci95": [round(lo, 4), round(hi, 4)]}


def human_windows(ids: torch.Tensor, length: int, n: int, part: int, h: int = H) -> torch.Tensor:
    """n non-overlapping windows of h + length tokens from one half (part 0 or 1) of the val ids."""
    half = len(ids) // 2
    src = ids[part * half:(part + 1) * half]
    step = h + length
    n = min(n, len(src) // step)
    return torch.stack([src[i * step:(i + 1) * step] for i in range(n)])


def text_rows(model, tok) -> tuple[list, list]:
    V = tok.vocab_size
    ids = torch.tensor(tok.encode(data.load("shakespeare", split="val")))
    g = torch.Generator().manual_seed(0)
    starts = torch.randint(0, len(ids) - P, (N_PROMPTS,), generator=g)
    prompts = torch.stack([ids[s:s + P] for s in starts])                          # (N, P)
    n_new = max(LENGTHS)
    plain = W.generate(model, prompts, n_new, None, generator=torch.Generator().manual_seed(1))
    ppl0 = W.perplexity(model, plain[:, :P + 100], P)
    rows, notes = [], []
    # the nominal threshold against the measured false-positive rate (human text, 100 characters)
    for h in (1, 2, 3):
        wm = W.Watermark(KEY, context=h)
        cal = W.z_scores(human_windows(ids, 100, N_HUMAN, 0, h), wm, V)
        test = W.z_scores(human_windows(ids, 100, N_HUMAN, 1, h), wm, V)
        thr = W.calibrate(cal, 0.01)
        rows.append({"part": "text: human false positives", "config": f"gamma 0.25, context {h} chars, 100 chars",
                     "nominal z 2.326 FPR": rate((test > 2.326).sum(), len(test)),
                     "calibrated threshold": round(thr, 2), "calibrated FPR": rate((test > thr).sum(), len(test))})
    thresholds = {}
    for gamma, delta in GRID:
        wm = W.Watermark(KEY, gamma=gamma, delta=delta, context=H)
        t0 = time.perf_counter()
        out = W.generate(model, prompts, n_new, wm, generator=torch.Generator().manual_seed(1))
        secs = time.perf_counter() - t0
        ppl = W.perplexity(model, out[:, :P + 100], P)
        for length in LENGTHS:
            cal = W.z_scores(human_windows(ids, length, N_HUMAN, 0), wm, V)
            hum = W.z_scores(human_windows(ids, length, N_HUMAN, 1), wm, V)
            thr = W.calibrate(cal, 0.01)
            thresholds[(gamma, delta, length)] = thr
            z = W.z_scores(out[:, P - H:P + length], wm, V)
            z0 = W.z_scores(plain[:, P - H:P + length], wm, V)
            row = {"part": "text: detection", "config": f"gamma {gamma}, delta {delta}", "chars": length,
                   "threshold": round(thr, 2), "FPR human (held out)": rate((hum > thr).sum(), len(hum)),
                   "FPR model, no mark": rate((z0 > thr).sum(), len(z0)), "TPR": rate((z > thr).sum(), len(z)),
                   "mean z": round(float(z.mean()), 2)}
            if length == 100:
                row.update({"perplexity": round(ppl, 3), "perplexity unmarked": round(ppl0, 3),
                            "perplexity change": f"{ppl / ppl0 - 1:+.1%}", "sample seconds (N x 200 chars)": round(secs, 1),
                            "target": "TPR >= 95% at FPR <= 1%, perplexity <= +5%",
                            "met": "yes" if (z > thr).mean() >= 0.95 and (hum > thr).mean() <= 0.01
                            and ppl / ppl0 - 1 <= 0.05 else "NOT met"})
            rows.append(row)
        if (gamma, delta) == MAIN or (gamma, delta) == (0.25, 2.0):
            thr = thresholds[(gamma, delta, 100)]
            for share in SHARES:
                att = W.replace_tokens(out[:, :P + 100], share, V, torch.Generator().manual_seed(2), start=P)
                z = W.z_scores(att[:, P - H:], wm, V)
                rows.append({"part": "text: tokens replaced", "config": f"gamma {gamma}, delta {delta}",
                             "chars": 100, "share replaced": share, "TPR": rate((z > thr).sum(), len(z)),
                             "mean z": round(float(z.mean()), 2)})
    notes.append(f"Text: {N_PROMPTS} prompts, {N_HUMAN} human windows per half; key {KEY}; perplexity of the "
                 "watermarked continuations under the unwatermarked model (its own samples without the mark: "
                 f"{ppl0:.3f}).")
    return rows, notes


def image_rows() -> list:
    x = data.load("mnist5k", split="test").images
    n = config.budget(500, 50)
    cal, clean = x[:n], x[n:2 * n]
    rows = []
    for alpha in (0.02, 0.03, 0.05, 0.08):
        wm = IW.ImageWatermark(7, alpha=alpha)
        thr = W.calibrate(wm.score(cal).numpy(), 0.01)
        marked = wm.embed(clean)
        g = torch.Generator().manual_seed(0)
        row = {"part": "image: detection", "config": f"alpha {alpha}, band {wm.lo}-{wm.hi}",
               "PSNR dB": round(float(IW.psnr(marked, clean).mean()), 1),
               "FPR clean (held out)": rate((wm.score(clean) > thr).sum(), len(clean))}
        attacks = {"none": marked, "noise 0.05": IW.add_noise(marked, 0.05, g), "noise 0.1": IW.add_noise(marked, 0.1, g),
                   "blur 0.5": IW.blur(marked, 0.5), "blur 1.0": IW.blur(marked, 1.0), "crop 2": IW.crop(marked, 2),
                   "crop 4": IW.crop(marked, 4), "shift 1": IW.shift(marked, 1)}
        for name, imgs in attacks.items():
            row[f"TPR {name}"] = round(float((wm.score(imgs) > thr).float().mean()), 3)
        rows.append(row)
    return rows


def main() -> int:
    t0 = time.perf_counter()
    model, tok = pretrained.load("shakespeare-gpt", device="cpu"), pretrained.tokenizer("shakespeare-gpt")
    rows, notes = text_rows(model, tok)
    rows += image_rows()
    secs = time.perf_counter() - t0
    notes += [f"Total {secs:.0f} s on one thread, load average {os.getloadavg()[0]:.1f}.",
              "Images: 28x28 MNIST-5k test digits; TPR = share of marked digits above the threshold calibrated "
              "at 1% on other unmarked digits; crop k = k-pixel border set to black; shift 1 = one pixel right and down."]
    print(f"{len(rows)} rows in {secs:.0f} s")
    return bench.record("ethics_watermark", title="Ethics: provenance by watermarking (text green list, image DCT)",
                        command="python benchmarks/ethics_watermark.py", rows=rows, notes=notes)


if __name__ == "__main__":
    raise SystemExit(main())
