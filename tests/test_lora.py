"""course_lib.models.lora: a no-op at init, merge equals unmerged, switchable adapters, frozen base, bad input."""
import pytest
import torch
import torch.nn as nn

from course_lib.models.gpt import GPT, GPTConfig
from course_lib.models.lora import (LoRALinear, add_adapter, add_lora, lora_layers, merge_lora, set_adapter,
                                    trainable_fraction)


def tiny_gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))


def ids():
    return torch.randint(0, 11, (3, 8), generator=torch.Generator().manual_seed(1))


def train_a_little(model, steps=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    for _ in range(steps):
        x = torch.randint(0, 11, (4, 8), generator=g)
        _, loss = model(x, x)
        opt.zero_grad(); loss.backward(); opt.step()


def test_fresh_adapter_is_a_no_op_and_base_is_frozen():
    model = tiny_gpt()
    before = model(ids())[0]
    layers = add_lora(model, rank=4)
    assert len(layers) == 4 and all(isinstance(m, LoRALinear) for m in layers)       # qkv, proj x 2 blocks
    assert torch.equal(model(ids())[0], before)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert 0 < trainable_fraction(model) < 0.1
    assert all(layer.lora_A["default"].abs().sum() > 0 for layer in layers)          # A random: B gets gradient


def test_training_changes_only_adapters_and_merge_equals_unmerged():
    model = tiny_gpt()
    base = {n: p.clone() for n, p in model.named_parameters()}
    add_lora(model, rank=2, targets=("attn.qkv", "mlp.fc"), alpha=4)
    train_a_little(model)
    for n, p in model.named_parameters():
        if "lora_" not in n:
            assert torch.equal(p, base[n.replace(".base", "")])
    x = ids()
    out = model(x)[0]
    assert not torch.allclose(out, GPT.forward(tiny_gpt(), x)[0])                     # it did adapt
    merged = merge_lora(model)
    assert not lora_layers(merged) and isinstance(merged.blocks[0].attn.qkv, nn.Linear)
    assert torch.allclose(merged(x)[0], out, atol=1e-5)
    assert set(merged.state_dict()) == set(tiny_gpt().state_dict())                  # a plain GPT again


def test_scaling_is_alpha_over_rank():
    layer = LoRALinear(nn.Linear(6, 5), rank=2, alpha=6)
    with torch.no_grad():
        layer.lora_B["default"].fill_(1.0)
    x = torch.randn(3, 6)
    expected = layer.base(x) + 3.0 * x @ layer.lora_A["default"].T @ layer.lora_B["default"].T
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert torch.allclose(layer.merged()(x), expected, atol=1e-5)


def test_several_adapters_switch_on_one_base():
    model = tiny_gpt()
    x = ids()
    plain = model(x)[0]
    add_lora(model, rank=2, name="a")
    train_a_little(model, seed=1)
    out_a = model(x)[0]
    add_adapter(model, "b", rank=3)
    assert torch.allclose(model(x)[0], plain, atol=1e-6)                              # b is fresh: a no-op
    train_a_little(model, seed=2)
    out_b = model(x)[0]
    set_adapter(model, "a")
    assert torch.allclose(model(x)[0], out_a, atol=1e-6)                              # a kept its weights
    set_adapter(model, None)
    assert torch.allclose(model(x)[0], plain, atol=1e-6)
    assert torch.allclose(merge_lora(model, "b")(x)[0], out_b, atol=1e-5)
    with pytest.raises(ValueError, match="no adapter named 'c'; this model has \\['a', 'b'\\]"):
        set_adapter(model, "c")


@pytest.mark.parametrize("rank,needle", [(0, "got 0"), (-1, "got -1"), (17, "1..16"), (2.0, "got 2.0")])
def test_bad_rank(rank, needle):
    with pytest.raises(ValueError, match="LoRA rank must be an int in 1..16") as e:
        LoRALinear(nn.Linear(16, 48), rank=rank)
    assert needle in str(e.value)


def test_bad_targets_and_types():
    with pytest.raises(ValueError, match="no nn.Linear named like \\['attn.query'\\]"):
        add_lora(tiny_gpt(), rank=2, targets="attn.query")
    with pytest.raises(TypeError, match="wraps an nn.Linear, got Conv1d"):
        LoRALinear(nn.Conv1d(2, 2, 1), rank=1)
    with pytest.raises(ValueError, match="call add_lora"):
        add_adapter(tiny_gpt(), "x", rank=2)


def test_shakespeare_play_is_the_held_out_domain():
    from course_lib.data.bundled import SHAKESPEARE_VAL_PLAYS, shakespeare_play
    text = shakespeare_play("the-tempest")
    assert "the-tempest" in SHAKESPEARE_VAL_PLAYS and text.startswith("The Tempest") and "PROSPERO" in text.upper()
    with pytest.raises(KeyError, match="no play 'the-storm'; the plays are: .*the-tempest"):
        shakespeare_play("the-storm")
