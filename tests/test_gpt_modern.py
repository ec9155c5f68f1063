"""The modern GPT options (RMSNorm, RoPE, SwiGLU, grouped-query attention): each does what its paper says,
and every combination keeps the properties the plain GPT has (causal, cache == full forward)."""
import itertools

import pytest
import torch

from course_lib.models.gpt import GPT, GPTConfig, RMSNorm, SwiGLU, apply_rope, rope_angles
from course_lib.models.gpt.modern import swiglu_hidden

SMALL = dict(vocab_size=13, block_size=16, n_layer=2, n_head=4, n_embd=32)
OPTIONS = [dict(norm=n, pos=p, mlp=m, n_kv_head=kv)
           for n, p, m, kv in itertools.product(("layer", "rms"), ("learned", "rope"), ("gelu", "swiglu"), (None, 2))]


def test_rmsnorm_gives_unit_rms_and_ignores_scale():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 8) * 7 + 2
    y = RMSNorm(8)(x)
    assert torch.allclose(y.pow(2).mean(-1), torch.ones(3, 5), atol=1e-4)
    assert torch.allclose(RMSNorm(8)(3 * x), y, atol=1e-5)           # scale-invariant
    assert not torch.allclose(RMSNorm(8)(x + 1), y, atol=1e-2)       # but not shift-invariant, unlike LayerNorm


def test_rope_keeps_lengths_and_scores_depend_only_on_the_offset():
    torch.manual_seed(0)
    cos, sin = rope_angles(8, 32)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def rot(x, pos):
        return apply_rope(x, cos[pos:pos + 1], sin[pos:pos + 1])

    assert torch.allclose(rot(q, 11).norm(), q.norm(), atol=1e-5)
    score = lambda m, n: (rot(q, m) * rot(k, n)).sum()               # noqa: E731
    assert torch.allclose(score(7, 3), score(20, 16), atol=1e-4)     # same offset 4: same score
    assert torch.allclose(score(0, 0), (q * k).sum(), atol=1e-6)     # position 0 is no rotation
    assert not torch.allclose(score(7, 3), score(7, 4), atol=1e-3)   # another offset: another score
    with pytest.raises(ValueError, match="even head size"):
        rope_angles(7, 4)


def test_swiglu_has_the_parameters_of_the_gelu_mlp_and_gates():
    assert swiglu_hidden(128) == 344 and swiglu_hidden(96) == 256
    plain = GPT(GPTConfig(**SMALL)).blocks[0].mlp
    glu = SwiGLU(32)
    n_plain, n_glu = (sum(p.numel() for p in m.parameters()) for m in (plain, glu))
    assert abs(n_glu - n_plain) / n_plain < 0.1
    torch.manual_seed(0)
    x, h = torch.randn(2, 3, 32), swiglu_hidden(32)
    w_gate, w_up = glu.fc.weight[:h], glu.fc.weight[h:]
    by_hand = glu.proj(torch.nn.functional.silu(x @ w_gate.T) * (x @ w_up.T))
    assert torch.allclose(glu(x), by_hand, atol=1e-6)
    with torch.no_grad():
        glu.fc.weight[:h] = 0                          # gate pre-activation 0: silu(0) = 0 closes every gate
    assert glu(x).abs().max() == 0


def test_grouped_query_attention_shrinks_the_cache():
    torch.manual_seed(0)
    full, gqa = GPT(GPTConfig(**SMALL)), GPT(GPTConfig(**SMALL, n_kv_head=1))
    assert gqa.num_params() < full.num_params()
    from course_lib.models.gpt import KVCache
    for m, heads in ((full, 4), (gqa, 1)):
        cache = KVCache(SMALL["n_layer"])
        m(torch.zeros(2, 5, dtype=torch.long), cache=cache)
        assert cache.keys[0].shape[1] == heads


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(str(v) for v in o.values()))
def test_every_combination_is_causal_and_its_cache_matches_the_full_forward(opts):
    torch.manual_seed(0)
    m = GPT(GPTConfig(**SMALL, **opts)).eval()
    idx = torch.randint(0, 13, (2, 12))
    full, _ = m(idx)
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % 13
    assert torch.allclose(m(changed)[0][:, :8], full[:, :8], atol=1e-5)         # the future is not seen
    from course_lib.models.gpt import KVCache
    cache = KVCache(SMALL["n_layer"])
    step = torch.cat([m(idx[:, :5], cache=cache)[0]] + [m(idx[:, t:t + 1], cache=cache)[0] for t in range(5, 12)], 1)
    assert torch.allclose(step, full, atol=1e-4)
    again = GPT.from_config(m.config_dict())
    again.load_state_dict(m.state_dict())                                      # the rope tables are not state
    assert torch.allclose(again.eval()(idx)[0], full)


def test_rope_model_has_no_position_table_and_flash_matches_the_written_out_attention():
    torch.manual_seed(0)
    m = GPT(GPTConfig(**SMALL, pos="rope", norm="rms", mlp="swiglu", n_kv_head=2)).eval()
    assert m.pos_emb is None and not any("rope" in k for k in m.state_dict())
    slow = GPT(GPTConfig(**SMALL, pos="rope", norm="rms", mlp="swiglu", n_kv_head=2, flash=False)).eval()
    slow.load_state_dict(m.state_dict())
    idx = torch.randint(0, 13, (2, 16))
    assert torch.allclose(m(idx)[0], slow(idx)[0], atol=1e-5)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("norm", "batch", "norm must be one of"), ("pos", "alibi", "pos must be one of"),
    ("mlp", "relu", "mlp must be one of"), ("n_kv_head", 3, "dividing n_head"), ("n_kv_head", 0, "dividing n_head")])
def test_bad_options_name_what_was_expected(field, value, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**SMALL, **{field: value})


def test_cli_trains_the_modern_block_and_refuses_an_unknown_option_value(tmp_path, capsys):
    from course_lib import checkpoints, cli
    ckpt = tmp_path / "modern.pt"
    assert cli.main(["train", "gpt", "--dataset", "pydoc_topics", "--steps", "3", "--out", str(ckpt),
                     "--option", "n_layer=1", "--option", "n_embd=32", "--option", "block_size=16",
                     "--option", "pos=rope", "--option", "norm=rms", "--option", "mlp=swiglu",
                     "--option", "n_kv_head=2"]) == 0
    model, _ = checkpoints.load_with_meta(ckpt, GPT.from_config)
    assert (model.config.pos, model.config.norm, model.config.mlp, model.config.n_kv_head) == ("rope", "rms", "swiglu", 2)
    with pytest.raises(SystemExit, match="pos must be one of .*'alibi'"):
        cli.main(["train", "gpt", "--dataset", "pydoc_topics", "--steps", "1", "--out", str(tmp_path / "x.pt"),
                  "--option", "pos=alibi"])
    assert not (tmp_path / "x.pt").exists()
