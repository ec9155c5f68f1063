"""course_lib.samples: the .npz file `genai-course sample` writes for every image family."""
import numpy as np
import pytest
import torch

from course_lib import samples


def test_labels_cycle_through_the_classes_or_repeat_the_one_asked_for():
    assert samples.labels_for(5, 0, {}) is None
    assert samples.labels_for(5, 3, {}).tolist() == [0, 1, 2, 0, 1]
    assert samples.labels_for(3, 10, {"label": 7}).tolist() == [7, 7, 7]
    with pytest.raises(SystemExit, match="0..9"):
        samples.labels_for(3, 10, {"label": 12})


def test_write_npz_saves_float32_images_and_labels(tmp_path):
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64)
    msg = samples.write_npz(tmp_path / "s.npz", x, torch.arange(4))
    assert "wrote 4 samples (1, 8, 8)" in msg
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].dtype == np.float32 and f["images"].shape == (4, 1, 8, 8)
        assert f["labels"].tolist() == [0, 1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]      # no temp file left behind


def test_write_npz_names_2d_points_x_and_writes_nothing_without_out(tmp_path):
    samples.write_npz(tmp_path / "p.npz", torch.zeros(6, 2))
    with np.load(tmp_path / "p.npz") as f:
        assert list(f.keys()) == ["x"]
    assert "nothing written" in samples.write_npz(None, torch.zeros(6, 2))
