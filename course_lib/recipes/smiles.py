"""Training recipe for a SMILES GPT: the course GPT on molecules, one molecule per sequence, on a step or
time budget; fast batched sampling; and goal-directed hill climbing (GuacaMol's SMILES-LSTM baseline).

A training example is <bos> SMILES <eos>, right-padded with <pad> to the longest in the batch; the loss
ignores the padding (target -1), so the model learns where a molecule ends. With augment=True each
molecule is written as a fresh randomized SMILES every time it is drawn (course_lib.chem.augment; a known
help on small sets); a spelling longer than the context falls back to the canonical one.

    model, tok, hist = train_smiles_gpt(data.load("molecules"), seconds=150)
    smiles = sample_smiles(model, tok, 1000, temperature=1.0)           # list of str (some invalid)
    history = hill_climb(model, tok, train, rounds=4, samples_per_round=500, keep_top=100, steps_per_round=60)

Defaults: 4 layers, 4 heads, 128 wide, context 80 tokens (the longest cleaned molecule is 74 tokens plus
<bos>), batch 64, AdamW 2e-3 with 100 warm-up steps and a cosine decay to 10%.
Trials (150 s, 1 thread, seed 0, 10,000 samples at T=1, against the scaffold-split test set):
  (filled in from benchmarks/healthcare_molecules.py)
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.models.gpt import GPT, GPTConfig, KVCache
from course_lib.models.gpt.model import sample_next
from course_lib.tokenizers import SmilesTokenizer

DEFAULTS = dict(n_layer=4, n_head=4, n_embd=128, block_size=80, batch_size=64, lr=2e-3, warmup=100,
                min_lr_frac=0.1, dropout=0.0)


def _check_smiles_list(smiles, what: str = "smiles") -> list[str]:
    if isinstance(smiles, str) or not hasattr(smiles, "__iter__"):
        raise TypeError(f"{what} must be a list of SMILES strings, got {type(smiles).__name__}")
    smiles = list(smiles)
    if not smiles:
        raise ValueError(f"{what} is empty: expected at least one SMILES string")
    return smiles


def smiles_batches(smiles, tok: SmilesTokenizer, batch_size: int, block_size: int, *, seed: int = 0,
                   augment: bool = True):
    """A callable () -> (x, y), x (B, T) input ids from <bos>, y (B, T) next ids ending in <eos>, -1 on the
    padding (T: the longest drawn molecule + 1). Molecules drawn with replacement by a seeded Generator."""
    from rdkit import Chem
    from course_lib.chem.augment import randomized_smiles
    from course_lib.chem.clean import quiet_rdkit
    quiet_rdkit()
    smiles = _check_smiles_list(smiles)
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    bad = [s for s, m in zip(smiles, mols) if m is None]
    if bad:
        raise ValueError(f"training SMILES must all be valid; RDKit cannot parse {bad[0]!r} ({len(bad)} in all)")
    canon = [tok.encode(s, bos=True, eos=True) for s in smiles]
    too_long = [s for s, ids in zip(smiles, canon) if len(ids) - 1 > block_size]
    if too_long:
        raise ValueError(f"{len(too_long)} SMILES need more than block_size={block_size} tokens, e.g. {too_long[0]!r}")
    rng = np.random.default_rng(seed)

    def encode(i: int) -> list[int]:
        if not augment:
            return canon[i]
        try:
            ids = tok.encode(randomized_smiles(mols[i], rng), bos=True, eos=True)
        except ValueError:                                     # a token the vocabulary lacks: the canonical one
            return canon[i]
        return ids if len(ids) - 1 <= block_size else canon[i]

    def batch():
        seqs = [encode(int(i)) for i in rng.integers(0, len(smiles), batch_size)]
        T = max(len(s) for s in seqs) - 1
        x = torch.full((batch_size, T), tok.PAD, dtype=torch.long)                       # (B, T)
        y = torch.full((batch_size, T), -1, dtype=torch.long)                            # (B, T)
        for row, s in enumerate(seqs):
            x[row, :len(s) - 1] = torch.tensor(s[:-1])
            y[row, :len(s) - 1] = torch.tensor(s[1:])
        return x, y
    return batch


def _fit(model, tok, smiles, opt: dict, *, steps, seconds, seed: int, augment: bool, progress: bool):
    from course_lib.train import CosineSchedule, fit
    optimizer = model.configure_optimizer(opt["lr"], weight_decay=0.1)
    schedule = CosineSchedule(optimizer, opt["lr"], steps=steps, seconds=seconds, warmup=opt["warmup"],
                              floor=opt["min_lr_frac"])
    batches = smiles_batches(smiles, tok, opt["batch_size"], model.config.block_size, seed=seed, augment=augment)
    return fit(model, lambda m, b: m(*b)[1], batches, optimizer=optimizer, steps=steps, seconds=seconds,
               grad_clip=1.0, progress=progress, on_step=[schedule], desc="SMILES GPT")


def train_smiles_gpt(smiles, *, steps: int | None = None, seconds: float | None = None, seed: int = 0,
                     augment: bool = True, progress: bool = False, **options):
    """Train a GPT on canonical SMILES -> (model in eval mode, SmilesTokenizer, fit History).

    The vocabulary comes from the SMILES plus the ring digits 1-9. options override DEFAULTS (unknown names
    are a TypeError). Either budget may be None, not both."""
    from course_lib import config
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(DEFAULTS)}")
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps, seconds or both")
    smiles = _check_smiles_list(smiles)
    opt = {**DEFAULTS, **options}
    config.seed_everything(seed)
    tok = SmilesTokenizer.from_smiles(smiles)
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=opt["block_size"], n_layer=opt["n_layer"],
                    n_head=opt["n_head"], n_embd=opt["n_embd"], dropout=opt["dropout"])
    model = GPT(cfg)
    history = _fit(model, tok, smiles, opt, steps=steps, seconds=seconds, seed=seed, augment=augment,
                   progress=progress)
    return model.eval(), tok, history


@torch.no_grad()
def sample_smiles(model: GPT, tok: SmilesTokenizer, n: int, temperature: float = 1.0, seed: int = 0,
                  batch: int = 1000, top_k: int | None = None) -> list[str]:
    """n SMILES strings sampled from <bos> until <eos> (or the context is full), `batch` sequences at a time
    with the KV cache, stopping a batch once every row has ended. Returns raw strings: some may be invalid
    (a string cut by the context is usually invalid). Seeded: the same seed gives the same strings."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive int, got {batch!r}")
    if model.config.vocab_size != tok.vocab_size:
        raise ValueError(f"model has {model.config.vocab_size} token ids but the tokenizer {tok.vocab_size}: "
                         "pass the tokenizer the model was trained with")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    out = []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        idx = torch.full((b, 1), tok.BOS, dtype=torch.long, device=device)                 # (b, 1)
        done = torch.zeros(b, dtype=torch.bool, device=device)                              # (b,)
        cache, fresh, rows = KVCache(model.config.n_layer), idx, [idx]
        for _ in range(model.config.block_size):
            logits, _ = model(fresh, cache=cache, check_ids=False)                          # (b, 1, V)
            nxt = sample_next(logits[:, -1, :], temperature, top_k, None, gen)              # (b, 1)
            nxt = nxt.masked_fill(done[:, None], tok.PAD)                                   # ended rows: padding
            rows.append(nxt)
            done |= nxt[:, 0] == tok.EOS
            if bool(done.all()):
                break
            fresh = nxt
        ids = torch.cat(rows, dim=1).cpu()                                                  # (b, 1 + steps)
        out.extend(tok.decode(row) for row in ids)
    model.train(was_training)
    return out


def qed_score(smiles: list[str]) -> list[float]:
    """QED of each (valid) SMILES: the default objective of hill_climb."""
    from rdkit.Chem import QED
    from course_lib.chem.metrics import parse
    return [QED.qed(m) for m in parse(smiles)]


def hill_climb(model: GPT, tok: SmilesTokenizer, train_smiles, score_fn=qed_score, *, rounds: int = 4,
               samples_per_round: int = 500, keep_top: int = 100, steps_per_round: int = 60,
               temperature: float = 1.0, lr: float = 5e-4, batch_size: int = 32, seed: int = 0,
               augment: bool = True) -> list[dict]:
    """GuacaMol's SMILES-LSTM hill climbing on a GPT: each round samples, keeps the distinct valid samples
    with the best score_fn values (keep_top, together with the best seen in earlier rounds) and fine-tunes
    the model on them for steps_per_round steps; the model is changed in place.

    score_fn: list of valid canonical SMILES -> list of floats (default QED). Returns one dict per round,
    round 0 being the model before any fine-tuning: mean score and mean QED of the valid samples, validity,
    uniqueness, intdiv1 (course_lib.chem.metrics), and the best score so far."""
    from rdkit import Chem
    from rdkit.Chem import QED
    from course_lib.chem import metrics
    train_smiles = _check_smiles_list(train_smiles, "train_smiles")
    for name, v in (("rounds", rounds), ("samples_per_round", samples_per_round), ("keep_top", keep_top),
                    ("steps_per_round", steps_per_round)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "rounds" else 1):
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    opt = {**DEFAULTS, "lr": lr, "batch_size": batch_size, "warmup": 0, "min_lr_frac": 0.1}
    best: dict[str, float] = {}
    history = []
    for r in range(rounds + 1):
        samples = sample_smiles(model, tok, samples_per_round, temperature=temperature, seed=seed + 1000 * r)
        mols = [m for m in metrics.parse(samples) if m is not None]
        canon = sorted({Chem.MolToSmiles(m, isomericSmiles=False) for m in mols})
        scores = dict(zip(canon, map(float, score_fn(canon)))) if canon else {}
        qeds = [QED.qed(m) for m in mols]
        best.update(scores)
        top = sorted(best, key=lambda s: (-best[s], s))[:keep_top]
        history.append({"round": r, "validity": len(mols) / len(samples),
                        "uniqueness": len(canon) / len(mols) if mols else float("nan"),
                        "mean_score": float(np.mean([scores[c] for c in canon])) if canon else float("nan"),
                        "mean_qed": float(np.mean(qeds)) if qeds else float("nan"),
                        "intdiv1": metrics.internal_diversity(mols),
                        "best_score": best[top[0]] if top else float("nan"), "top_mean": float(np.mean([best[s] for s in top])) if top else float("nan")})
        if r == rounds or not top:
            break
        fitted = [s for s in top if len(tok.split(s)) + 1 <= model.config.block_size and
                  all(t in tok.stoi for t in tok.split(s))]
        model.train()
        _fit(model, tok, fitted, opt, steps=steps_per_round, seconds=None, seed=seed + r, augment=augment,
             progress=False)
        model.eval()
    return history
