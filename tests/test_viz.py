import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_setup_sets_small_readable_defaults():
    viz.setup()
    assert plt.rcParams["figure.dpi"] == 80 and plt.rcParams["savefig.dpi"] == 80


def test_image_grid_tiles_every_image_once():
    imgs = torch.rand(10, 1, 8, 8)
    ax = viz.image_grid(imgs, nrow=4, labels=list(range(10)), title="digits")
    assert len(ax.images) == 1                                   # one tiled picture
    grid = ax.images[0].get_array()
    # 3 rows x 4 columns of 8x8 tiles, 1-pixel lines, a 3-pixel label strip above each tile
    assert grid.shape == (3 * (3 + 8 + 1) + 1, 4 * (8 + 1) + 1)
    assert np.allclose(grid[4:12, 1:9], imgs[0, 0].numpy())      # first image, top-left
    assert np.allclose(grid[16:24, 10:18], imgs[5, 0].numpy())   # image 5: row 1, column 1
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(10)]
    assert ax.get_title() == "digits"
    assert ax.figure.dpi == 80


def test_image_grid_accepts_nhw_arrays_and_default_layout():
    ax = viz.image_grid(np.zeros((9, 28, 28), dtype=np.float32))
    assert ax.images[0].get_array().shape == (3 * 29 + 1, 3 * 29 + 1)   # sqrt(9) = 3 per row
    assert ax.images[0].get_clim() == (0.0, 1.0)


def test_image_grid_stretches_other_ranges_and_draws_into_a_given_ax():
    _, ax = plt.subplots()
    out = viz.image_grid(torch.linspace(-1, 1, 2 * 16).reshape(2, 1, 4, 4), ax=ax)
    assert out is ax and out.images[0].get_clim() == (-1.0, 1.0)


@pytest.mark.parametrize("shape", [(32, 64), (4, 2, 8, 8), (2, 1, 1, 8, 8), (0, 8, 8)])
def test_image_grid_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, H, W\).*got " + str(shape).replace("(", r"\(").replace(")", r"\)")):
        viz.image_grid(torch.zeros(shape))


def test_image_grid_rejects_bad_labels_and_nrow():
    with pytest.raises(ValueError, match="one entry per image"):
        viz.image_grid(torch.zeros(4, 8, 8), labels=[1, 2])
    with pytest.raises(ValueError, match="nrow"):
        viz.image_grid(torch.zeros(4, 8, 8), nrow=0)
    with pytest.raises(TypeError, match="images must be a tensor or array"):
        viz.image_grid("not images")


def test_scatter2d_draws_samples_real_data_and_modes():
    pts = torch.randn(100, 2)
    real = torch.randn(50, 2)
    modes = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0]])
    ax = viz.scatter2d(pts, modes=modes, real=real, title="ring")
    counts = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert counts == {"samples": 100, "real data": 50, "true modes": 3}
    assert np.allclose(ax.collections[1].get_offsets(), pts.numpy())
    assert ax.get_aspect() == 1.0
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "ring"
    assert ax.get_legend() is not None


def test_scatter2d_without_modes_has_only_samples():
    ax = viz.scatter2d(np.random.default_rng(0).normal(size=(20, 2)))
    assert len(ax.collections) == 1 and ax.get_legend() is None


@pytest.mark.parametrize("bad", [torch.zeros(10), torch.zeros(10, 3), torch.zeros(2, 5, 2)])
def test_scatter2d_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match=r"points must have shape \(n, 2\)"):
        viz.scatter2d(bad)
    with pytest.raises(ValueError, match=r"modes must have shape \(n, 2\)"):
        viz.scatter2d(torch.zeros(5, 2), modes=bad)


def test_loss_curves_from_a_list_and_log_scale():
    ax = viz.loss_curves([3.0, 2.0, 1.5, 1.2], logy=True)
    assert len(ax.lines) == 1
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3, 4]
    assert list(ax.lines[0].get_ydata()) == [3.0, 2.0, 1.5, 1.2]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"


def test_loss_curves_compares_runs_from_a_dict():
    h = History(steps=[1, 2, 3], logs={"loss": [1.0, 0.5, 0.25]}, evals=[{"step": 3, "val_loss": 0.4}])
    gan = History(steps=[1, 2], logs={"d_loss": [1.0, 0.9], "g_loss": [2.0, 1.0]})
    ax = viz.loss_curves({"mlp": h, "gan": gan, "bigram": torch.tensor([2.5, 2.4])})
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["mlp", "mlp: eval val_loss", "gan: d_loss", "gan: g_loss", "bigram"]
    assert list(ax.lines[1].get_xdata()) == [3]
    assert ax.get_legend() is not None


def test_loss_curves_rejects_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        viz.loss_curves(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="must be a tensor or array"):
        viz.loss_curves({"run": "abc"})
