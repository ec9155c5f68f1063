"""A small GPT (decoder-only transformer), in the spirit of Karpathy's minGPT/nanoGPT.

The bigram and MLP models of notebooks 01-02 see a fixed, short context. A transformer lets every
position look at *all* earlier positions through self-attention: each token emits a query, a key and a
value; the softmax of query.key scores (scaled by 1/sqrt(head size), with future positions masked
out) weights the values. Stack attention + MLP blocks with residual connections and pre-LayerNorm,
add token and position embeddings in front and a linear head at the end, and you have a GPT.
Notebook 05 builds each piece by hand and checks it against this package (the layers in `layers`, the
model and its sampling in `model`); notebook 06 trains it.

    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128)
    model = GPT(cfg)
    logits, loss = model(idx, targets)                      # (B, T, V), scalar
    out = model.generate(prompt_ids, 200, temperature=0.8, top_k=40)   # continue a prompt; uses a KV cache
    ids = model.sample(8, n_tokens=100)                     # (8, 100) from the start token alone
    nats = model.nll(val_ids)                               # mean next-token loss, nats per token

Generation with a KV cache: the keys and values of past positions never change (they only depend on
earlier tokens), so instead of re-running the whole context for every new token, each layer keeps them
and the model runs only the newest token. Same numbers, far less work.

Today's open models change four pieces, each an option here (`modern`): RMSNorm (norm="rms"), rotary
positions (pos="rope"), the SwiGLU feed-forward (mlp="swiglu") and grouped-query attention (n_kv_head).
"""
from course_lib.models.gpt.layers import (MLP, Block, CausalSelfAttention, GPTConfig, KVCache, attention,
                                          causal_mask)
from course_lib.models.gpt.model import GPT, sample_next
from course_lib.models.gpt.modern import RMSNorm, SwiGLU, apply_rope, rope_angles
from course_lib.tokenizers import tokenizer_from_meta  # noqa: F401  (a GPT checkpoint's tokenizer)

__all__ = ["GPT", "GPTConfig", "KVCache", "CausalSelfAttention", "MLP", "Block", "attention", "causal_mask",
           "sample_next", "RMSNorm", "SwiGLU", "apply_rope", "rope_angles"]
