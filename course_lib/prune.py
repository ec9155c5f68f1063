"""Magnitude pruning: drop the weights (or whole MLP channels) that matter least by size.

Unstructured: zero the smallest |w| of each chosen matrix. The zeros only save memory or time with a
sparse format or kernel (the model below keeps dense tensors: the loss shows the cost, not the speed).
Structured: remove whole hidden channels of each MLP (a row of `fc` and the matching column of `proj`),
ranked by the product of their norms; the layers really shrink, so the model is smaller and faster.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn


def _check_fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")


@torch.no_grad()
def magnitude_prune(model: nn.Module, sparsity: float, targets=("attn.qkv", "attn.proj", "mlp.fc", "mlp.proj")) -> nn.Module:
    """A copy of the model with the `sparsity` share of smallest-magnitude weights of each target Linear
    (suffix match on its name) set to zero, layer by layer."""
    _check_fraction("sparsity", sparsity)
    model = copy.deepcopy(model)
    found = [m for n, m in model.named_modules() if isinstance(m, nn.Linear) and any(n.endswith(t) for t in targets)]
    if not found:
        raise ValueError(f"no nn.Linear named like {list(targets)} in the model")
    for layer in found:
        w = layer.weight
        n_drop = int(round(sparsity * w.numel()))
        if n_drop:
            cut = w.abs().flatten().kthvalue(n_drop).values
            w.masked_fill_(w.abs() <= cut, 0.0)
    return model


def sparsity_of(model: nn.Module, targets=("attn.qkv", "attn.proj", "mlp.fc", "mlp.proj")) -> float:
    """Share of zeros among the target layers' weights."""
    ws = [m.weight for n, m in model.named_modules() if isinstance(m, nn.Linear) and any(n.endswith(t) for t in targets)]
    return sum(int((w == 0).sum()) for w in ws) / sum(w.numel() for w in ws)


@torch.no_grad()
def prune_mlp_channels(model: nn.Module, fraction: float) -> nn.Module:
    """A copy with the `fraction` least important hidden channels of every MLP (module with `fc` and `proj`
    Linears) removed: fc (H, C) -> (H', C), proj (C, H) -> (C, H'), H' = H - round(fraction * H)."""
    _check_fraction("fraction", fraction)
    model = copy.deepcopy(model)
    mlps = [m for m in model.modules() if isinstance(getattr(m, "fc", None), nn.Linear)
            and isinstance(getattr(m, "proj", None), nn.Linear)]
    if not mlps:
        raise ValueError("no MLP (a module with Linear layers `fc` and `proj`) in the model")
    for mlp in mlps:
        fc, proj = mlp.fc, mlp.proj
        H = fc.out_features
        keep_n = H - int(round(fraction * H))
        score = fc.weight.norm(dim=1) * proj.weight.norm(dim=0)                     # (H,) size in, size out
        keep = score.topk(keep_n).indices.sort().values                              # (H',)
        new_fc = nn.Linear(fc.in_features, keep_n, bias=fc.bias is not None)
        new_fc.weight.copy_(fc.weight[keep])
        if fc.bias is not None:
            new_fc.bias.copy_(fc.bias[keep])
        new_proj = nn.Linear(keep_n, proj.out_features, bias=proj.bias is not None)
        new_proj.weight.copy_(proj.weight[:, keep])
        if proj.bias is not None:
            new_proj.bias.copy_(proj.bias)
        mlp.fc, mlp.proj = new_fc, new_proj
    return model
