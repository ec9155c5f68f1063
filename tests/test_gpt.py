"""GPT: shapes, the causal mask, attention vs torch's, KV cache vs recomputation, sampling, errors, CLI."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib.models.gpt import GPT, GPTConfig, KVCache, attention, causal_mask, sample_next


def small(**kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16)
    cfg.update(kw)
    return GPT(GPTConfig(**cfg)).eval()


def test_shapes_and_initial_loss():
    model = small()
    idx = torch.randint(0, 11, (3, 16))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 16, 11)
    assert abs(loss.item() - math.log(11)) < 0.1           # near-uniform predictions at init
    assert model(idx)[1] is None
    assert model.generate(idx[:, :4], 5).shape == (3, 9)


@pytest.mark.parametrize("flash", [True, False])
def test_future_tokens_do_not_change_past_logits(flash):
    model = small(flash=flash)
    a = torch.randint(0, 11, (1, 12))
    b = a.clone()
    b[0, 7:] = (b[0, 7:] + 3) % 11                           # change only positions 7..11
    la, lb = model(a)[0], model(b)[0]
    torch.testing.assert_close(la[:, :7], lb[:, :7])        # the past cannot see the future
    assert not torch.allclose(la[:, 7:], lb[:, 7:])          # ... but later positions do change


def test_attention_matches_torch():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    ours = attention(q, k, v, mask=causal_mask(5, 5))
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    # queries at the END of a longer key sequence (the KV-cache case)
    q2 = q[:, :, -2:]
    torch.testing.assert_close(attention(q2, k, v, mask=causal_mask(2, 5)), ours[:, :, -2:])
    assert causal_mask(2, 4).tolist() == [[True, True, True, False], [True, True, True, True]]


def test_flash_and_explicit_paths_agree():
    torch.manual_seed(0)
    a = GPT(GPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16, flash=True)).eval()
    b = GPT(GPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16, flash=False)).eval()
    b.load_state_dict(a.state_dict())
    idx = torch.randint(0, 11, (2, 16))
    torch.testing.assert_close(a(idx)[0], b(idx)[0], atol=1e-5, rtol=1e-5)


def test_cache_logits_match_full_forward():
    model = small()
    idx = torch.randint(0, 11, (2, 10))
    full = model(idx)[0]
    cache = KVCache(model.config.n_layer)
    first = model(idx[:, :6], cache=cache)[0]                # prefill 6, then 4 one at a time
    steps = [model(idx[:, t:t + 1], cache=cache)[0] for t in range(6, 10)]
    assert cache.length == 10
    torch.testing.assert_close(torch.cat([first, *steps], dim=1), full, atol=1e-5, rtol=1e-5)


def test_greedy_generation_same_with_and_without_cache():
    model = small(block_size=32)
    prompt = torch.randint(0, 11, (2, 5))
    with_cache = model.generate(prompt, 27, temperature=0, use_cache=True)
    without = model.generate(prompt, 27, temperature=0, use_cache=False)
    assert torch.equal(with_cache, without)
    # past block_size both still run (the cached path restarts from a half window)
    assert model.generate(prompt, 60, temperature=0).shape == (2, 65)


def test_sampling_filters():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    g = torch.Generator().manual_seed(0)
    assert sample_next(logits, temperature=0).item() == 3
    draws = {sample_next(logits, top_k=2, generator=g).item() for _ in range(200)}
    assert draws == {2, 3}
    p = F.softmax(logits, -1)[0]                             # 0.03, 0.09, 0.24, 0.64
    draws = {sample_next(logits, top_p=0.8, generator=g).item() for _ in range(200)}
    assert draws == {2, 3} and p[3] < 0.8 <= p[3] + p[2]
    assert {sample_next(logits, top_p=0.5, generator=g).item() for _ in range(50)} == {3}
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    m = small()
    x = torch.zeros(1, 1, dtype=torch.long)
    assert torch.equal(m.generate(x, 10, generator=g1), m.generate(x, 10, generator=g2))


def test_bad_inputs_raise_clear_errors():
    model = small()
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 10\], got ids from 0 to 11"):
        model(torch.tensor([[0, 11]]))
    with pytest.raises(ValueError, match="token ids must be in"):
        model.generate(torch.tensor([[-1]]), 3)
    with pytest.raises(ValueError, match=r"sequence length must be 1..16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match=r"int64 tensor of shape \(B, T\)"):
        model(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="int64"):
        model(torch.zeros(1, 5))
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        sample_next(torch.zeros(1, 3), temperature=-1)


def test_learns_a_repeating_sequence_and_checkpoint_round_trip(tmp_path):
    from course_lib import checkpoints
    from course_lib.train import fit, random_windows
    torch.manual_seed(0)
    ids = torch.arange(200) % 7                               # 0 1 2 ... 6 0 1 ...: fully predictable
    model = GPT(GPTConfig(vocab_size=7, block_size=8, n_layer=1, n_head=2, n_embd=16))
    before = model.nll(ids)
    fit(model, lambda m, b: m(*b)[1], random_windows(ids, 8, 16, torch.Generator().manual_seed(0)),
        lr=1e-2, steps=60, progress=False)
    after = model.nll(ids)
    assert before > 1.5 and after < 0.3
    path = checkpoints.save(tmp_path / "g.pt", model, model.config_dict(), family="gpt")
    again = GPT.from_checkpoint(path)
    torch.testing.assert_close(again(ids[None, :8])[0], model.eval()(ids[None, :8])[0])
    assert again.generate(torch.tensor([[3]]), 6, temperature=0).tolist() == [[3, 4, 5, 6, 0, 1, 2]]


def test_cli_train_and_sample(tmp_path, capsys):
    # pydoc_topics (the small fallback corpus) keeps this fast; shakespeare goes through the same code
    from course_lib import cli
    ckpt = tmp_path / "gpt.pt"
    assert cli.main(["train", "gpt", "--dataset", "pydoc_topics", "--steps", "30", "--out", str(ckpt),
                     "--option", "n_layer=1", "--option", "n_embd=32", "--option", "block_size=32"]) == 0
    printed = capsys.readouterr().out
    assert "val_loss (nats/char)" in printed and ckpt.is_file()
    out = tmp_path / "sample.txt"
    assert cli.main(["sample", str(ckpt), "--prompt", "The ", "--n-tokens", "40", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("The ") and len(text) == len("The ") + 40   # char tokenizer: 1 token = 1 char
    assert text in capsys.readouterr().out
    with pytest.raises(SystemExit, match="cannot be encoded"):
        cli.main(["sample", str(ckpt), "--prompt", "日本", "--n-tokens", "5"])
    with pytest.raises(SystemExit, match="unknown gpt option"):
        cli.main(["train", "gpt", "--dataset", "shakespeare", "--steps", "1", "--out", str(ckpt), "--option", "x=1"])


def test_cache_buffers_are_reused_and_refuse_overflow():
    cache = KVCache(n_layer=1, capacity=4)
    k = torch.randn(1, 2, 3, 5)
    keys, values = cache.append(0, k, 2 * k)
    assert keys.shape == (1, 2, 3, 5) and torch.equal(values, 2 * k)
    buffer = cache.keys[0]
    cache.length = 3
    keys, _ = cache.append(0, k[:, :, :1], k[:, :, :1])
    assert cache.keys[0] is buffer and torch.equal(keys[:, :, 3], k[:, :, 0])      # written in place
    cache.length = 4
    with pytest.raises(ValueError, match=r"KV cache full: 4 cached \+ 1 new > capacity 4"):
        cache.append(0, k[:, :, :1], k[:, :, :1])


def test_scaled_init_finds_the_residual_projections_by_name():
    """GPT-2: the two layers that write into the residual stream (attn.proj, mlp.proj) start with std
    0.02 / sqrt(2 n_layer); every other matrix with 0.02; biases at zero."""
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=50, block_size=16, n_layer=8, n_head=4, n_embd=256)
    m = GPT(cfg)
    small = 0.02 / math.sqrt(2 * cfg.n_layer)
    scaled = {n for n, _ in m.named_parameters() if n.endswith(".proj.weight")}
    assert scaled == {f"blocks.{i}.{part}.proj.weight" for i in range(8) for part in ("attn", "mlp")}
    for name, p in m.named_parameters():
        if name.endswith("bias"):
            assert torch.equal(p, torch.zeros_like(p)), name
        elif p.dim() == 2:
            want = small if name in scaled else 0.02
            assert p.std().item() == pytest.approx(want, rel=0.05), name


def test_checkpoints_with_the_old_sequential_mlp_names_still_load():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))
    old = {k.replace("mlp.fc.", "mlp.0.").replace("mlp.proj.", "mlp.2."): v for k, v in m.state_dict().items()}
    assert "blocks.0.mlp.2.weight" in old
    back = GPT(m.config)
    back.load_state_dict(old)                                # strict: every key found under its new name
    idx = torch.randint(0, 11, (2, 8))
    assert torch.equal(back(idx)[0], m(idx)[0])


def test_generate_checks_the_id_range_once_per_prompt(monkeypatch):
    m = small()
    calls = []
    real = GPT._check_ids

    def spy(self, idx, start, values=True):
        calls.append(values)
        return real(self, idx, start, values)

    monkeypatch.setattr(GPT, "_check_ids", spy)
    for use_cache in (True, False):
        calls.clear()
        m.generate(torch.zeros(1, 3, dtype=torch.long), 20, temperature=0, use_cache=use_cache)
        assert calls.count(True) == 1 and len(calls) == 21    # the prompt once, then shapes only
    with pytest.raises(ValueError, match="token ids must be in"):
        m.generate(torch.full((1, 3), 11), 5)
    with pytest.raises(ValueError, match="token ids must be in"):
        m(torch.full((1, 3), 11))                             # a plain forward still checks


def test_weight_decay_only_on_matrices():
    m = small()
    opt = m.configure_optimizer(1e-3, weight_decay=0.1)
    decayed, kept = opt.param_groups
    assert decayed["weight_decay"] == 0.1 and kept["weight_decay"] == 0.0
    names = {id(p): n for n, p in m.named_parameters()}
    assert {names[id(p)] for p in kept["params"]} == {n for n, p in m.named_parameters() if p.dim() == 1}
    assert any(n.endswith("ln1.weight") for n in (names[id(p)] for p in kept["params"]))
    assert {names[id(p)] for p in decayed["params"]} >= {"tok_emb.weight", "head.weight", "blocks.0.mlp.fc.weight"}
    assert len(decayed["params"]) + len(kept["params"]) == len(list(m.parameters()))
    # one step with zero gradients: AdamW shrinks only the decayed group (lr * wd = 1e-4 of each value)
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(1.0)
            p.grad = torch.zeros_like(p)
    opt.step()
    assert m.blocks[0].ln1.weight.eq(1.0).all() and m.blocks[0].attn.qkv.bias.eq(1.0).all()
    assert torch.allclose(m.head.weight, torch.full_like(m.head.weight, 1 - 1e-4))
