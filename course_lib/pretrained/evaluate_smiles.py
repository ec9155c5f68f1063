"""The recorded figures of the zoo's SMILES GPT (notebook 11): molecules sampled at the checkpoint's
temperature and scored with course_lib.chem.metrics.

Same contract as course_lib.pretrained.evaluate (the package adds SMILES to EVALUATORS under "gpt:molecules").
"full": N_FULL (2,000) samples: validity, uniqueness, novelty against the training split, IntDiv1, plus the held-out
loss of the scaffold-split test molecules. "check": the number of valid molecules among N_CHECK (100) seeded samples
(a count) and the held-out loss of the first 200 test molecules, which moves when the weights move.
"""
from __future__ import annotations

import torch

from .evaluate import SEED, _rec

N_FULL, N_CHECK = 2000, 100             # samples of the "full" and "check" evaluations


@torch.no_grad()
def _smiles(model, entry, meta: dict, kind: str) -> dict:
    from course_lib import data
    from course_lib.chem import metrics
    from course_lib.recipes.smiles import heldout_loss, sample_smiles
    from course_lib.tokenizers import tokenizer_from_meta
    tok, temperature = tokenizer_from_meta(meta), float(meta.get("temperature", 1.0))
    test = data.load(entry.dataset, split="test")
    n = N_FULL if kind == "full" else N_CHECK
    samples = sample_smiles(model, tok, n, temperature=temperature, seed=SEED)
    sampled = f"{n} SMILES sampled at temperature {temperature}, seed {SEED}"
    n_loss = None if kind == "full" else 200
    out = {"heldout_loss_nats_per_token": _rec(heldout_loss(model, tok, test, n_loss), "mean next-token loss "
                                               f"(<eos> included) on {'all' if n_loss is None else f'the first {n_loss}'} "
                                               "test-split (scaffold-disjoint) molecules, teacher forcing")}
    if kind == "check":
        valid = sum(m is not None for m in metrics.parse(samples))
        out[f"valid_of_{n}"] = _rec(valid, f"valid molecules (RDKit parses them) among {sampled}", abs_tol=0)
        return out
    train = data.load(entry.dataset, split="train")
    figures = metrics.evaluate(samples, train, test)
    for k in ("validity", "uniqueness", "novelty", "intdiv1", "snn", "mean_QED"):
        out[k] = _rec(figures[k], f"{k} (course_lib.chem.metrics) of {sampled}; novelty against the training "
                      "split, snn against the test split")
    return out


SMILES = {"gpt:molecules": _smiles}
