"""Training recipe for the GPT family: defaults, a step or time budget, the CLI.

The tuned defaults (what did best in benchmarks/gpt.py) and the command-line adapters
`genai-course train gpt` / `genai-course sample CKPT`. The mathematics lives in course_lib.models.gpt.
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib.models.gpt import GPT, GPTConfig
from course_lib.samples import check_options
from course_lib.tokenizers import tokenizer_from_meta

TEXT_DATASETS = ("shakespeare", "pydoc_topics", "tiny_shakespeare")
DEFAULTS = dict(tokenizer="char", bpe_vocab=512, n_layer=4, n_head=4, n_embd=128, block_size=64,
                dropout=0.0, batch_size=32, lr=2e-3, min_lr_frac=0.1, warmup=100,
                norm="layer", pos="learned", mlp="gelu", n_kv_head=0)   # n_kv_head 0: as many as n_head


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train gpt --dataset shakespeare --seconds N --out CKPT`. Options (--option k=v):
    tokenizer=char|bpe, bpe_vocab, n_layer, n_head, n_embd, block_size, dropout, batch_size, lr,
    min_lr_frac, warmup, and the modern block's options norm=layer|rms, pos=learned|rope, mlp=gelu|swiglu,
    n_kv_head (grouped-query attention; 0 = n_head). The learning rate warms up, then decays (cosine) over the step or time budget.
    --dataset molecules trains a SMILES GPT instead (course_lib.recipes.smiles.cli_train, its own options);
    --dataset stock-returns a GPT over quantised daily returns (course_lib.recipes.returns.cli_train);
    --dataset arithmetic an addition GPT (course_lib.recipes.arithmetic.cli_train, option task=...)."""

    from course_lib import checkpoints, config, data
    from course_lib.tokenizers import BPETokenizer, CharTokenizer
    from course_lib.train import CosineSchedule, fit, random_windows

    if dataset == "molecules":                     # one SMILES per sequence: its own recipe and options
        from course_lib.recipes import smiles
        return smiles.cli_train(dataset=dataset, seconds=seconds, steps=steps, seed=seed, out=out, options=options)
    if dataset == "stock-returns":                 # quantised daily returns: course_lib.recipes.returns
        from course_lib.recipes import returns
        return returns.cli_train(dataset=dataset, seconds=seconds, steps=steps, seed=seed, out=out, options=options)
    if dataset == "arithmetic":                    # generated sums (notebook 13): course_lib.recipes.arithmetic
        from course_lib.recipes import arithmetic
        return arithmetic.cli_train(dataset=dataset, seconds=seconds, steps=steps, seed=seed, out=out, options=options)
    check_options("gpt", options, DEFAULTS)
    if dataset not in TEXT_DATASETS:
        raise SystemExit(f"error: the gpt family trains on text: one of {', '.join(TEXT_DATASETS)}; got {dataset!r}")
    opt = {**DEFAULTS, **options}
    gen = config.seed_everything(seed)
    train_text, val_text = data.load(dataset, split="train"), data.load(dataset, split="val")
    if opt["tokenizer"] == "char":
        tok = CharTokenizer.from_text(train_text + val_text)   # tiny alphabet: no unknown characters in val
        tok_meta = {"type": "char", "chars": [tok.itos[i] for i in range(tok.vocab_size)]}
    elif opt["tokenizer"] == "bpe":
        tok = BPETokenizer.train(train_text[:300_000], int(opt["bpe_vocab"]))
        tok_meta = {"type": "bpe", "merges": [list(p) for p in tok.merges]}
    else:
        raise SystemExit(f"error: tokenizer must be 'char' or 'bpe', got {opt['tokenizer']!r}")
    train_ids = torch.tensor(tok.encode(train_text), dtype=torch.long)
    val_ids = torch.tensor(tok.encode(val_text), dtype=torch.long)
    try:
        cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=int(opt["block_size"]), n_layer=int(opt["n_layer"]),
                        n_head=int(opt["n_head"]), n_embd=int(opt["n_embd"]), dropout=float(opt["dropout"]),
                        norm=str(opt["norm"]), pos=str(opt["pos"]), mlp=str(opt["mlp"]),
                        n_kv_head=int(opt["n_kv_head"]) or None)
    except ValueError as err:
        raise SystemExit(f"error: gpt options: {err}")
    model = GPT(cfg)
    if steps is None and seconds is None:
        steps = config.budget(5000, 100)
    lr, warmup, floor = float(opt["lr"]), int(opt["warmup"]), float(opt["min_lr_frac"])
    optimizer = model.configure_optimizer(lr, weight_decay=0.1)
    schedule = CosineSchedule(optimizer, lr, steps=steps, seconds=seconds, warmup=warmup, floor=floor)

    history = fit(model, lambda m, b: m(*b)[1], random_windows(train_ids, cfg.block_size, int(opt["batch_size"]), gen),
                  optimizer=optimizer, steps=steps, seconds=seconds, grad_clip=1.0, progress=False,
                  on_step=[schedule])
    val_loss = model.nll(val_ids)
    chars_per_token = len(val_text) / len(val_ids)
    checkpoints.save(out, model, model.config_dict(), family="gpt", dataset=dataset, tokenizer=tok_meta,
                     steps=len(history.steps), seconds=round(history.seconds, 1), val_loss=val_loss)
    return {"parameters": model.num_params(), "steps": len(history.steps),
            "seconds": round(history.seconds, 1), "train_loss (last)": round(history.loss[-1], 4),
            "val_loss (nats/token)": round(val_loss, 4),
            "val_loss (nats/char)": round(val_loss / chars_per_token, 4)}


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --prompt TEXT --n-tokens N`: the prompt and its continuation.
    Options: temperature (default 0.8), top_k, top_p, samples (continuations, default 1). --out writes
    the text (UTF-8) too."""
    from course_lib import checkpoints
    check_options("gpt sampling", options, {"prompt", "n_tokens", "temperature", "top_k", "top_p", "samples"})
    model, meta = checkpoints.load_with_meta(path, GPT.from_config)
    tok = tokenizer_from_meta(meta)
    prompt = str(options.get("prompt") or "\n")
    n_tokens = int(options.get("n_tokens", 200))
    try:
        ids = tok.encode(prompt)
    except ValueError as err:
        raise SystemExit(f"error: the prompt cannot be encoded with this checkpoint's tokenizer: {err}")
    gen = torch.Generator().manual_seed(seed)
    top_k = options.get("top_k")
    x = torch.tensor([ids] * int(options.get("samples", 1)), dtype=torch.long)
    y = model.generate(x, n_tokens, temperature=float(options.get("temperature", 0.8)),
                       top_k=int(top_k) if top_k is not None else None,
                       top_p=float(options["top_p"]) if "top_p" in options else None, generator=gen)
    texts = [tok.decode(row) for row in y]
    text = "\n\n-----\n\n".join(texts)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    return text
