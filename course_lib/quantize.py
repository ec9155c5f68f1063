"""Weight quantisation from scratch: fewer bits per weight, a scale (and zero point) per block of weights.

A float32 weight costs 4 bytes. Storing it as a b-bit integer q plus one float scale s per block gives
w ~ s * q (absmax, symmetric) or w ~ s * (q - z) (zero-point, asymmetric), with the block one of
- "tensor":  one scale for the whole matrix (an outlier anywhere widens every step);
- "channel": one scale per output row (LLM.int8()'s vector-wise quantisation, without its outlier split);
- "group":   one scale per `group_size` consecutive inputs of a row (GPTQ/AWQ/llama.cpp's Q4 blocks).

    qt = quantize(w, bits=8, granularity="channel")      # QTensor: packed ints + scales
    w_hat = qt.dequantize()                               # float again; |w - w_hat| <= qt.error_bound()
    small = quantize_model(gpt, bits=4, granularity="group", group_size=32)   # Linear -> QuantLinear
    model_bytes(small)                                    # parameters + buffers, as stored

Rounding to the nearest step makes the absmax error at most half a step (scale / 2). The zero point is
rounded too, so a zero-point quantiser can clip by up to another half step at the ends: at most one step.
`QuantLinear` keeps the packed integers and dequantises on the fly in every forward: the memory saving is
real, the speed is not (a float matmul still runs; real int kernels are what torchao and llama.cpp add).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

BITS = (2, 4, 8)
SCHEMES = ("absmax", "zeropoint")
GRANULARITIES = ("tensor", "channel", "group")


def _check(w: torch.Tensor, bits: int, scheme: str, granularity: str, group_size: int | None) -> None:
    if not isinstance(w, torch.Tensor) or w.dim() != 2 or not w.is_floating_point():
        got = f"{tuple(w.shape)} {w.dtype}" if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(f"quantize expects a 2-D float weight (out_features, in_features), got {got}")
    if bits not in BITS or isinstance(bits, bool):
        raise ValueError(f"bits must be one of {BITS}, got {bits!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    if granularity == "group":
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"granularity 'group' needs a positive int group_size, got {group_size!r}")
        if w.size(1) % group_size:
            raise ValueError(f"group_size {group_size} does not divide the weight's width {w.size(1)} "
                             f"(in_features); use a divisor of {w.size(1)}")
    elif group_size is not None:
        raise ValueError(f"group_size is only for granularity 'group', got group_size={group_size!r} "
                         f"with granularity {granularity!r}")
    per_byte = 8 // bits
    if w.numel() % per_byte or (granularity == "group" and group_size % per_byte):
        raise ValueError(f"{bits}-bit codes are packed {per_byte} per byte: the weight's size {w.numel()} "
                         f"(and a group size) must be a multiple of {per_byte}, got {tuple(w.shape)}"
                         + (f" with group_size {group_size}" if granularity == "group" else ""))


def _blocks(w: torch.Tensor, granularity: str, group_size: int | None) -> torch.Tensor:
    """(out, in) -> (n_blocks, block_len): the rows that share one scale."""
    if granularity == "tensor":
        return w.reshape(1, -1)
    if granularity == "channel":
        return w
    return w.reshape(-1, group_size)                                   # (out * in / g, g)


def _half_up(scale: torch.Tensor) -> torch.Tensor:
    """Scales are stored as float16 (2 bytes, as llama.cpp does); rounded up so no code overflows its range."""
    s16 = scale.half()
    return torch.where(s16.float() < scale, torch.nextafter(s16, torch.full_like(s16, float("inf"))), s16)


def _pack4(q: torch.Tensor) -> torch.Tensor:
    """uint8 values 0..15, even length -> half as many bytes, two values per byte."""
    q = q.reshape(-1, 2)
    return (q[:, 0] | (q[:, 1] << 4)).contiguous()


def _unpack4(packed: torch.Tensor) -> torch.Tensor:
    return torch.stack([packed & 0xF, packed >> 4], dim=1).reshape(-1)


@dataclass
class QTensor:
    """A quantised matrix: `data` (uint8; two 4-bit or four 2-bit codes packed per byte),
    `scale` (one float16 per block), `zero` (zero-point only) and how to unfold it back to `shape`."""

    data: torch.Tensor
    scale: torch.Tensor          # (n_blocks, 1) float16
    zero: torch.Tensor           # (n_blocks, 1) float32, integer-valued; empty for absmax
    bits: int
    scheme: str
    granularity: str
    group_size: int | None
    shape: tuple

    def codes(self) -> torch.Tensor:
        """The integer codes (n_blocks, block_len) as int32: signed for absmax, 0..2^b-1 for zero-point."""
        flat = self.data
        if self.bits == 4:
            flat = _unpack4(flat)
        elif self.bits == 2:
            flat = torch.stack([(flat >> s) & 0x3 for s in (0, 2, 4, 6)], dim=1).reshape(-1)
        q = flat.to(torch.int32).reshape(self.scale.size(0), -1)
        return q - 2 ** (self.bits - 1) if self.scheme == "absmax" else q   # stored with an offset

    def dequantize(self) -> torch.Tensor:
        """The float32 weight the integers stand for, (out, in)."""
        q = self.codes().float()
        if self.zero.numel():
            q = q - self.zero
        return (q * self.scale.float()).reshape(self.shape)

    def error_bound(self) -> torch.Tensor:
        """Largest |w - dequantize()| the rounding allows, per block (n_blocks, 1)."""
        return self.scale.float() / 2 if self.scheme == "absmax" else self.scale.float()

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.data, self.scale, self.zero))


def quantize(w: torch.Tensor, bits: int = 8, scheme: str = "absmax", granularity: str = "channel",
             group_size: int | None = None) -> QTensor:
    """Quantise a (out, in) weight to `bits`-bit integers with one scale per block (see the module doc)."""
    _check(w, bits, scheme, granularity, group_size)
    wb = _blocks(w.detach().float(), granularity, group_size)              # (n_blocks, block_len)
    if scheme == "absmax":                                  # symmetric: codes -(2^(b-1)-1) .. 2^(b-1)-1
        qmax = 2 ** (bits - 1) - 1
        scale = _half_up(wb.abs().amax(dim=1, keepdim=True).clamp_min(1e-6) / qmax)    # (n_blocks, 1)
        zero = scale.new_zeros(0)                           # no zero point to store
        q = torch.round(wb / scale.float()).clamp(-qmax, qmax)
        stored = q + 2 ** (bits - 1)                        # 1 .. 2^b - 1: fits an unsigned b-bit field
    else:                                                   # asymmetric: codes 0 .. 2^b - 1, min -> 0
        lo, hi = wb.amin(dim=1, keepdim=True), wb.amax(dim=1, keepdim=True)
        scale = _half_up(((hi - lo) / (2 ** bits - 1)).clamp_min(1e-6))
        zero = torch.round(-lo / scale.float())             # float32: may lie outside 0..2^b-1
        q = (torch.round(wb / scale.float()) + zero).clamp(0, 2 ** bits - 1)
        stored = q
    stored = stored.to(torch.uint8).reshape(-1)
    if bits == 4:
        stored = _pack4(stored)
    elif bits == 2:
        s = stored.reshape(-1, 4)
        stored = (s[:, 0] | (s[:, 1] << 2) | (s[:, 2] << 4) | (s[:, 3] << 6)).contiguous()
    return QTensor(stored, scale, zero, bits, scheme, granularity, group_size, tuple(w.shape))


class QuantLinear(nn.Module):
    """A Linear whose weight is stored quantised (buffers: packed ints, scales) and dequantised per forward."""

    def __init__(self, linear: nn.Linear, **qargs):
        super().__init__()
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"QuantLinear wraps an nn.Linear, got {type(linear).__name__}")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        qt = quantize(linear.weight, **qargs)
        self.meta = dict(bits=qt.bits, scheme=qt.scheme, granularity=qt.granularity, group_size=qt.group_size,
                         shape=qt.shape)
        self.register_buffer("qdata", qt.data)
        self.register_buffer("scale", qt.scale)
        self.register_buffer("zero", qt.zero)
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().clone())

    def qtensor(self) -> QTensor:
        return QTensor(self.qdata, self.scale, self.zero, **self.meta)

    def forward(self, x):                                                 # (..., in) -> (..., out)
        return F.linear(x, self.qtensor().dequantize().to(x.dtype), self.bias)

    def extra_repr(self) -> str:
        m = self.meta
        g = f", group_size={m['group_size']}" if m["group_size"] else ""
        return (f"in_features={self.in_features}, out_features={self.out_features}, bits={m['bits']}, "
                f"{m['scheme']}, {m['granularity']}{g}")


def quantize_model(model: nn.Module, bits: int = 8, scheme: str = "absmax", granularity: str = "channel",
                   group_size: int | None = None, skip: tuple = ()) -> nn.Module:
    """A copy of `model` with every nn.Linear (except names containing an entry of `skip`) a QuantLinear.
    Embeddings and LayerNorms stay float: a few percent of a GPT's weights, and the most sensitive."""
    qargs = dict(bits=bits, scheme=scheme, granularity=granularity, group_size=group_size)
    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, nn.Linear) and not any(s in full for s in skip):
                setattr(module, child_name, QuantLinear(child, **qargs))
    return model


def model_bytes(model: nn.Module) -> int:
    """Bytes of every parameter and buffer as stored (packed integers count at their packed size)."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)
