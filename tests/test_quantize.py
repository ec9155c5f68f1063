"""course_lib.quantize: round trips within their error bounds, packed sizes, the quantised model, bad input."""
import pytest
import torch
import torch.nn as nn

from course_lib.quantize import QuantLinear, model_bytes, quantize, quantize_model


def weight(out=16, inp=64, seed=0):
    return torch.randn(out, inp, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("bits", [8, 4, 2])
@pytest.mark.parametrize("scheme", ["absmax", "zeropoint"])
@pytest.mark.parametrize("gran,group", [("tensor", None), ("channel", None), ("group", 16)])
def test_round_trip_within_bound(bits, scheme, gran, group):
    w = weight()
    qt = quantize(w, bits=bits, scheme=scheme, granularity=gran, group_size=group)
    err = (w - qt.dequantize()).abs()
    bound = qt.error_bound()                                       # (n_blocks, 1)
    blocks = err.reshape(bound.size(0), -1)
    assert (blocks <= bound + 1e-6).all()
    assert qt.dequantize().shape == w.shape


def test_absmax_error_is_at_most_half_a_step_and_uses_it():
    w = weight()
    qt = quantize(w, bits=8, granularity="channel")
    scale = w.abs().amax(dim=1, keepdim=True) / 127
    assert torch.allclose(qt.scale.float(), scale, rtol=2e-3) and qt.scale.dtype == torch.float16
    err = (w - qt.dequantize()).abs()
    assert (err <= qt.error_bound() + 1e-7).all() and (err > scale / 4).any()     # the bound is tight, not loose
    assert qt.codes().abs().max() == 127                                     # the largest weight uses the top code


def test_known_values():
    w = torch.tensor([[1.0, -0.6, 0.25, 0.0], [4.0, 3.0, -4.0, 1.0]])
    qt = quantize(w, bits=8, granularity="channel")
    assert qt.codes().tolist() == [[127, -76, 32, 0], [127, 95, -127, 32]]    # round(w / (max|w| / 127))
    zp = quantize(torch.tensor([[0.0, 1.0, 2.0, 3.0]]), bits=2, scheme="zeropoint", granularity="tensor")
    assert zp.codes().tolist() == [[0, 1, 2, 3]] and torch.allclose(zp.dequantize(), torch.tensor([[0., 1., 2., 3.]]))


def test_finer_blocks_are_more_accurate_with_an_outlier():
    w = weight(8, 64)
    w[0, 0] = 50.0                                                  # one outlier
    errs = {g: (w - quantize(w, bits=4, granularity=g, group_size=gs).dequantize()).pow(2).mean().item()
            for g, gs in (("tensor", None), ("channel", None), ("group", 16))}
    assert errs["group"] < errs["channel"] < errs["tensor"]


@pytest.mark.parametrize("bits,ratio", [(8, 1), (4, 2), (2, 4)])
def test_codes_are_packed(bits, ratio):
    w = weight(32, 64)
    qt = quantize(w, bits=bits, granularity="channel")
    assert qt.data.dtype == torch.uint8 and qt.data.numel() == w.numel() // ratio


def test_quant_linear_and_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 32))
    x = torch.randn(5, 64)
    q8 = quantize_model(model, bits=8)
    q4 = quantize_model(model, bits=4, granularity="group", group_size=32)
    assert isinstance(q8[0], QuantLinear) and isinstance(model[0], nn.Linear)      # a copy, original untouched
    ref = model(x)
    e8, e4 = (q8(x) - ref).abs().max(), (q4(x) - ref).abs().max()
    assert e8 < 0.01 and e8 < e4 < 0.2
    assert model_bytes(model) / model_bytes(q8) > 3.3
    assert model_bytes(q8) / model_bytes(q4) > 1.5
    kept = quantize_model(model, bits=8, skip=("2",))
    assert isinstance(kept[2], nn.Linear) and isinstance(kept[0], QuantLinear)
    assert "bits=4" in repr(q4)


def test_quantised_model_state_dict_round_trips():
    torch.manual_seed(0)
    model = quantize_model(nn.Sequential(nn.Linear(32, 16)), bits=4, granularity="group", group_size=8)
    other = quantize_model(nn.Sequential(nn.Linear(32, 16)), bits=4, granularity="group", group_size=8)
    other.load_state_dict(model.state_dict())
    x = torch.randn(3, 32)
    assert torch.equal(model(x), other(x))


@pytest.mark.parametrize("kwargs,needle", [
    (dict(bits=3), "bits must be one of (2, 4, 8), got 3"),
    (dict(bits=16), "got 16"),
    (dict(granularity="group", group_size=24), "group_size 24 does not divide the weight's width 64"),
    (dict(granularity="group"), "needs a positive int group_size, got None"),
    (dict(granularity="channel", group_size=8), "only for granularity 'group'"),
    (dict(scheme="minmax"), "scheme must be one of"),
    (dict(granularity="row"), "granularity must be one of"),
])
def test_bad_input(kwargs, needle):
    with pytest.raises(ValueError) as e:
        quantize(weight(), **kwargs)
    assert needle in str(e.value)


def test_bad_weight():
    with pytest.raises(ValueError, match=r"2-D float weight .* got \(4,\)"):
        quantize(torch.randn(4))
    with pytest.raises(ValueError, match="packed 2 per byte"):
        quantize(torch.randn(3, 3), bits=4, granularity="channel")
