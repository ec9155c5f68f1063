"""course_lib.distill and course_lib.prune: the loss's known values and T^2 scaling; pruning's sparsity,
the shrunk MLP, bad input."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib.distill import distillation_loss
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.prune import magnitude_prune, prune_mlp_channels, sparsity_of


def test_distillation_loss_known_values():
    s = torch.tensor([[0.0, 0.0]])
    t = torch.tensor([[math.log(3.0), 0.0]])                       # teacher: (3/4, 1/4) at T = 1
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert distillation_loss(s, t, temperature=1.0, alpha=1.0).item() == pytest.approx(kl, rel=1e-5)
    y = torch.tensor([0])
    mixed = distillation_loss(s, t, y, temperature=1.0, alpha=0.25).item()
    assert mixed == pytest.approx(0.25 * kl + 0.75 * math.log(2), rel=1e-5)
    assert distillation_loss(t, t, temperature=3.0, alpha=1.0).item() == pytest.approx(0.0, abs=1e-6)


def test_t_squared_keeps_the_gradient_size():
    g = torch.Generator().manual_seed(0)
    s0, t = torch.randn(64, 10, generator=g), torch.randn(64, 10, generator=g)
    norms = []
    for T in (8.0, 16.0):
        s = s0.clone().requires_grad_(True)
        distillation_loss(s, t, temperature=T, alpha=1.0).backward()
        norms.append(s.grad.norm().item())    # high T: T^2 * (s - t) / (V T^2): the same for every T
    assert norms[0] == pytest.approx(norms[1], rel=0.1)
    s = s0.clone().requires_grad_(True)
    distillation_loss(s, t, temperature=4.0, alpha=1.0).backward()
    unscaled = s0.clone().requires_grad_(True)
    (F.kl_div(F.log_softmax(unscaled / 4, -1), F.log_softmax(t / 4, -1), log_target=True, reduction="batchmean")
     ).backward()
    assert torch.allclose(s.grad, 16 * unscaled.grad, rtol=1e-4, atol=1e-7)


def test_distillation_bad_input():
    with pytest.raises(ValueError, match=r"same shape \(\.\.\., V\), got \(2, 3\) and \(2, 4\)"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="temperature must be a positive number, got 0"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), temperature=0)
    with pytest.raises(ValueError, match="use alpha=1, got alpha=0.5"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3))


def tiny_gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))


def test_magnitude_prune():
    model = tiny_gpt()
    pruned = magnitude_prune(model, 0.5)
    assert sparsity_of(model) == 0 and sparsity_of(pruned) == pytest.approx(0.5, abs=0.01)
    w, pw = model.blocks[0].mlp.fc.weight, pruned.blocks[0].mlp.fc.weight
    kept = pw != 0
    assert w[kept].abs().min() >= w[~kept].abs().max()              # the smallest went, the largest stayed
    assert torch.equal(pruned.tok_emb.weight, model.tok_emb.weight)  # only the target layers


def test_prune_mlp_channels_shrinks_and_keeps_the_strongest():
    model = tiny_gpt()
    with torch.no_grad():                                            # channel 5 of block 0: made tiny
        model.blocks[0].mlp.fc.weight[5] *= 1e-3
    x = torch.randint(0, 11, (2, 8), generator=torch.Generator().manual_seed(0))
    same = prune_mlp_channels(model, 0.0)
    assert torch.allclose(same(x)[0], model(x)[0], atol=1e-6)
    small = prune_mlp_channels(model, 0.25)
    assert small.blocks[0].mlp.fc.weight.shape == (48, 16) and small.blocks[0].mlp.proj.weight.shape == (16, 48)
    assert small.num_params() < model.num_params()
    one = prune_mlp_channels(model, 1 / 64)                          # drop exactly one channel: channel 5
    assert torch.allclose(one.blocks[0].mlp.fc.weight, torch.cat([model.blocks[0].mlp.fc.weight[:5],
                                                                   model.blocks[0].mlp.fc.weight[6:]]))
    assert torch.equal(one.blocks[0].mlp.proj.weight[:, 5], model.blocks[0].mlp.proj.weight[:, 6])


@pytest.mark.parametrize("value", [1.0, -0.1, "half", True])
def test_prune_bad_fraction(value):
    with pytest.raises(ValueError, match=f"must be a number in \\[0, 1\\), got {value!r}"):
        magnitude_prune(tiny_gpt(), value)
    with pytest.raises(ValueError, match="fraction must be"):
        prune_mlp_channels(tiny_gpt(), value)
