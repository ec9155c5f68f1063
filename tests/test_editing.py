"""Image editing with diffusion and flow models (course_lib.models.diffusion.editing) and the animation
helpers: tiny untrained models, so these check the mechanics (shapes, the mask invariant, s = 0 and s = 1,
determinism, errors), not image quality (benchmarks/creative_editing.py measures that)."""
import pytest
import torch
from PIL import Image

from course_lib.animation import html_animation, save_gif
from course_lib.models.diffusion import Diffusion, FlowMatching
from course_lib.models.diffusion.editing import check_mask, half_mask, inpaint, sdedit
from course_lib.models.diffusion.interpolation import interpolate, slerp


def tiny(**kw):
    torch.manual_seed(0)
    return Diffusion(data_shape=(1, 8, 8), arch="unet", width=8, timesteps=20, **kw)


def tiny_flow():
    torch.manual_seed(0)
    return FlowMatching(data_shape=(1, 8, 8), arch="unet", width=8)


def images(n=4, seed=1):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- inpainting

@pytest.mark.parametrize("opts", [dict(sampler="ddpm"), dict(sampler="ddim", steps=5, resample=3),
                                  dict(sampler="ddim", steps=5, eta=0.0)])
def test_inpaint_keeps_known_pixels_exactly_and_fills_the_rest(opts):
    model, x = tiny(), images()
    x[:, :, 0, :2] = 3e-9                        # lost in the round trip to [-1, 1] and back: only a final
    mask = half_mask(x.shape, "top")             # composite of the input itself keeps such pixels exactly
    out = inpaint(model, x, mask, generator=gen(), **opts)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    keep = mask.expand_as(x) == 1
    assert torch.equal(out[keep], x[keep])                      # exactly, not approximately
    assert not torch.allclose(out[~keep], x[~keep])             # the masked half was regenerated


def test_inpaint_replaces_the_known_region_during_sampling_not_only_at_the_end():
    model, x = tiny(), images()
    mask = half_mask(x.shape, "left")
    _, states = inpaint(model, x, mask, sampler="ddim", steps=5, generator=gen(), return_trajectory=True)
    keep = mask.expand_as(x) == 1
    assert states.shape == (6, *x.shape)
    assert torch.allclose(states[-1][keep], x[keep], atol=1e-6)   # the chain's last state holds x_known there
    assert (states[0][keep] - x[keep]).abs().mean() > 0.3         # the first is noised to the top level


def test_inpaint_mask_shapes_per_image_masks_and_labels():
    model, x = tiny(num_classes=10), images(3)
    per_image = torch.ones(3, 1, 8, 8)
    per_image[0, :, :4], per_image[1, :, :, 4:], per_image[2, :, 2:6, 2:6] = 0, 0, 0
    for mask in (per_image, per_image.bool(), torch.ones(8, 8).index_fill_(0, torch.tensor([7]), 0)):
        out = inpaint(model, x, mask, sampler="ddim", steps=3, labels=torch.tensor([1, 2, 3]), guidance=2.0,
                      generator=gen())
        keep = check_mask(mask, x) == 1
        assert torch.equal(out[keep], x[keep])


def test_inpaint_with_a_flow_model_keeps_known_pixels():
    model, x = tiny_flow(), images()
    mask = half_mask(x.shape, "bottom")
    out = inpaint(model, x, mask, steps=4, resample=2, generator=gen())
    keep = mask.expand_as(x) == 1
    assert torch.equal(out[keep], x[keep]) and not torch.allclose(out[~keep], x[~keep])


def test_inpaint_is_seeded_and_resampling_changes_the_result():
    model, x, mask = tiny(), images(), half_mask((8, 8), "right")
    a = inpaint(model, x, mask, sampler="ddim", steps=4, resample=2, generator=gen(5))
    b = inpaint(model, x, mask, sampler="ddim", steps=4, resample=2, generator=gen(5))
    c = inpaint(model, x, mask, sampler="ddim", steps=4, resample=2, generator=gen(6))
    d = inpaint(model, x, mask, sampler="ddim", steps=4, resample=1, generator=gen(5))
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, d)


def test_inpaint_leaves_the_model_in_its_mode():
    model, x = tiny(), images()
    model.train()
    inpaint(model, x, half_mask(x.shape), sampler="ddim", steps=2, generator=gen())
    assert model.training


@pytest.mark.parametrize("mask, message", [
    (torch.ones(4, 1, 8, 7), "mask must have shape"),
    (torch.ones(2, 1, 8, 8), "mask must have shape"),
    (torch.ones(1, 8, 8), "mask must have shape"),
    (torch.full((8, 8), 0.5), "binary"),
    (torch.ones(8, 8), "no pixels to regenerate"),
])
def test_bad_masks_are_refused_with_a_clear_message(mask, message):
    with pytest.raises(ValueError, match=message):
        inpaint(tiny(), images(), mask, generator=gen())


def test_a_mask_with_one_fully_known_image_is_refused_naming_it():
    mask = half_mask((8, 8)).repeat(4, 1, 1, 1)
    mask[2] = 1
    with pytest.raises(ValueError, match="for image 2"):
        check_mask(mask, images())


def test_other_bad_inputs():
    model, x, mask = tiny(), images(), half_mask((8, 8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        check_mask([[1, 0]], x)
    with pytest.raises(ValueError, match="resample"):
        inpaint(model, x, mask, resample=0)
    with pytest.raises(ValueError, match="sampler"):
        inpaint(model, x, mask, sampler="euler")
    with pytest.raises(ValueError, match="x_known must have shape"):
        inpaint(model, x[:, :, :4], mask)
    with pytest.raises(TypeError, match="Diffusion or FlowMatching"):
        inpaint("model", x, mask)
    with pytest.raises(ValueError, match="image models"):
        inpaint(Diffusion(data_shape=(2,)), torch.zeros(3, 2), mask)
    with pytest.raises(ValueError, match="keep must be one of"):
        half_mask((8, 8), "middle")


def test_half_mask_keeps_half_of_the_pixels():
    for keep in ("top", "bottom", "left", "right"):
        m = half_mask((1, 1, 8, 8), keep)
        assert m.shape == (1, 1, 8, 8) and m.sum() == 32
    assert half_mask((8, 8), "top")[0, 0, :4].eq(1).all() and half_mask((8, 8), "top")[0, 0, 4:].eq(0).all()
    assert half_mask((8, 8), "right")[0, 0, :, 4:].eq(1).all()


# ----------------------------------------------------------------------------- SDEdit

def test_sdedit_strength_zero_returns_the_input_and_one_is_plain_sampling():
    model, x = tiny(), images()
    same = sdedit(model, x, 0.0)
    assert torch.equal(same, x) and same is not x
    edited = sdedit(model, x, 1.0, steps=5, generator=gen(3))
    sampled = model.sample(4, sampler="ddim", steps=5, generator=gen(3))
    assert torch.allclose(edited, sampled, atol=1e-6)
    flow = tiny_flow()
    assert torch.allclose(sdedit(flow, x, 1, steps=4, generator=gen(3)), flow.sample(4, steps=4, generator=gen(3)),
                          atol=1e-6)


def test_sdedit_stays_closer_to_the_input_at_low_strength():
    model, x = tiny(), images(8)
    dist = {s: ((sdedit(model, x, s, steps=10, generator=gen()) - x) ** 2).mean().item() for s in (0.1, 1.0)}
    assert dist[0.1] < dist[1.0] / 2


def test_sdedit_is_seeded_for_both_samplers():
    model, x = tiny(), images()
    for opts in (dict(sampler="ddim", steps=5), dict(sampler="ddpm"), dict(sampler="ddim", steps=5, eta=1.0)):
        a = sdedit(model, x, 0.5, generator=gen(1), **opts)
        assert torch.equal(a, sdedit(model, x, 0.5, generator=gen(1), **opts))
        assert not torch.equal(a, sdedit(model, x, 0.5, generator=gen(2), **opts))


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan"), "0.5", True, None])
def test_sdedit_refuses_a_strength_outside_zero_one(strength):
    with pytest.raises(ValueError, match=r"strength must be a number in \[0, 1\]"):
        sdedit(tiny(), images(), strength)


# ----------------------------------------------------------------------------- interpolation

def test_slerp_hits_both_ends_and_keeps_the_norm_between_orthogonal_noises():
    z0, z1 = torch.zeros(1, 2, 2), torch.zeros(1, 2, 2)
    z0[0, 0, 0], z1[0, 1, 1] = 3.0, 3.0
    path = slerp(z0, z1, torch.linspace(0, 1, 5))
    assert path.shape == (5, 1, 2, 2)
    assert torch.allclose(path[0], z0) and torch.allclose(path[-1], z1)
    assert torch.allclose(path.flatten(1).norm(dim=1), torch.full((5,), 3.0))   # a straight line dips to 2.12
    assert slerp(z0, z1, 0.5).shape == z0.shape
    assert torch.allclose(slerp(z0, z0, 0.3), z0)                                 # parallel: no 0/0
    with pytest.raises(ValueError, match="same shape"):
        slerp(z0, torch.zeros(4), 0.5)


def test_interpolate_decodes_the_end_noises_deterministically():
    model = tiny()
    z = torch.randn(2, 1, 8, 8, generator=gen(4))
    frames = interpolate(model, z[0], z[1], frames=5, steps=4)
    assert frames.shape == (5, 1, 8, 8)
    assert torch.allclose(frames[0], model.sample(1, sampler="ddim", steps=4, x_T=z[:1])[0], atol=1e-6)
    assert torch.allclose(frames[-1], model.sample(1, sampler="ddim", steps=4, x_T=z[1:])[0], atol=1e-6)
    assert torch.equal(frames, interpolate(model, z[0], z[1], frames=5, steps=4))
    assert interpolate(tiny_flow(), z[0], z[1], frames=3, steps=2).shape == (3, 1, 8, 8)
    with pytest.raises(ValueError, match="frames must be an int >= 2"):
        interpolate(model, z[0], z[1], frames=1)
    with pytest.raises(ValueError, match="z1 must be one noise"):
        interpolate(model, z[0], z, frames=3)


# ----------------------------------------------------------------------------- animation

def test_save_gif_writes_every_frame_atomically(tmp_path):
    frames = torch.rand(6, 2, 1, 8, 8, generator=gen())           # 6 frames of 2 images side by side
    path = save_gif(frames, tmp_path / "walk.gif", fps=4)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 6 and im.size[0] == 2 * im.size[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.gif"]      # no temporary file left
    with pytest.raises(ValueError, match="end in .gif"):
        save_gif(frames, tmp_path / "walk.png")
    with pytest.raises(ValueError, match="frames must be"):
        save_gif(torch.rand(2, 4, 8, 8), tmp_path / "bad.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.gif"]


def test_html_animation_is_self_contained():
    html = html_animation(torch.rand(3, 1, 8, 8, generator=gen()))
    text = getattr(html, "data", html)
    assert "<script" in text and "data:image/png;base64" in text


def test_consistency_pull_keeps_known_pixels_and_points_downhill():
    from course_lib.models.diffusion.editing import _pull_to_known
    from course_lib.models.diffusion.reverse import reverse_process as _process
    model, x = tiny(), images()
    mask = half_mask(x.shape, "top")
    out = inpaint(model, x, mask, sampler="ddim", steps=4, resample=2, consistency=1.0, generator=gen())
    keep = mask.expand_as(x) == 1
    assert torch.equal(out[keep], x[keep])
    assert not torch.equal(out, inpaint(model, x, mask, sampler="ddim", steps=4, resample=2, generator=gen()))
    proc, x0 = _process(model, "ddim", 4, 1.0), model.to_model(x)
    x_t = torch.randn(x.shape, generator=gen(2))
    m = mask.expand_as(x)

    def misfit(z):
        with torch.no_grad():
            return (m * (proc.predict(z, 10, None, 1.0)[1] - x0)).flatten(1).norm(dim=1)
    _, pull = _pull_to_known(proc, x_t, 10, None, 1.0, m, x0, 1e-3)
    assert (misfit(x_t - pull) < misfit(x_t)).all()            # a small step along the pull fits the known part
    with pytest.raises(ValueError, match="consistency must be a number >= 0"):
        inpaint(model, x, mask, consistency=-1.0)


def test_best_of_candidates_keeps_the_completion_the_model_finds_most_plausible():
    from course_lib.models.diffusion.editing import denoising_error
    model, x = tiny(), images(3)
    mask = half_mask(x.shape, "left")
    opts = dict(sampler="ddim", steps=3, resample=2)
    best = inpaint(model, x, mask, candidates=4, generator=gen(7), **opts)
    g = gen(7)                                                   # the same draws, made by hand
    outs = inpaint(model, x.repeat(4, 1, 1, 1), mask.repeat(12, 1, 1, 1), generator=g, **opts)
    error = denoising_error(model, outs, generator=g).view(4, 3)
    assert torch.equal(best, outs.view(4, 3, 1, 8, 8)[error.argmin(0), torch.arange(3)])
    assert not torch.equal(best, outs.view(4, 3, 1, 8, 8)[error.argmax(0), torch.arange(3)])
    keep = mask.expand_as(x) == 1
    assert torch.equal(best[keep], x[keep])
    with pytest.raises(ValueError, match="candidates must be an int >= 1"):
        inpaint(model, x, mask, candidates=0)
    with pytest.raises(ValueError, match="candidates=1 only"):
        inpaint(model, x, mask, candidates=2, return_trajectory=True)


def test_denoising_error_rates_real_digits_as_more_plausible_than_noise():
    from course_lib import data, pretrained
    from course_lib.models.diffusion.editing import denoising_error
    model = pretrained.load("digits-diffusion").cpu()
    real = data.load("digits", split="test").images[:16]
    noise = torch.rand(16, 1, 8, 8, generator=gen(1))
    err_real = denoising_error(model, real, generator=gen())
    assert err_real.shape == (16,) and torch.equal(err_real, denoising_error(model, real, generator=gen()))
    assert err_real.max() < denoising_error(model, noise, generator=gen()).min()
    assert denoising_error(tiny_flow(), real, generator=gen()).shape == (16,)
