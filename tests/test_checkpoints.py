import os

import pytest
import torch
from torch import nn

from course_lib import checkpoints
from course_lib.checkpoints import CheckpointError


class TinyNet(nn.Module):
    def __init__(self, n_in=3, hidden=5, n_out=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
        self.norm = nn.BatchNorm1d(n_out)   # has buffers too (running_mean, num_batches_tracked)

    def forward(self, x):
        return self.norm(self.body(x))


CONFIG = {"n_in": 3, "hidden": 5, "n_out": 2}


def trained_net(seed=0):
    torch.manual_seed(seed)
    net = TinyNet(**CONFIG)
    net(torch.randn(8, 3))  # updates the batch-norm buffers so they differ from a fresh model
    return net


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


def test_round_trip_is_exact_for_every_tensor(tmp_path):
    net = trained_net()
    path = checkpoints.save(tmp_path / "net.pt", net, CONFIG, steps=100, note="demo", losses=[2.0, 1.5])
    loaded = checkpoints.load(path, TinyNet)
    a, b = net.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not loaded.training  # returned ready for sampling/evaluation
    ckpt = checkpoints.read(path)
    assert ckpt["config"] == CONFIG
    assert ckpt["meta"] == {"steps": 100, "note": "demo", "losses": [2.0, 1.5]}
    assert files_in(tmp_path) == ["net.pt"]  # no temp file left behind


def test_build_may_be_a_function_of_the_config(tmp_path):
    checkpoints.save(tmp_path / "a" / "b.pt", trained_net(), CONFIG)  # creates missing folders
    seen = []

    def build(cfg):
        seen.append(cfg)
        return TinyNet(**cfg)

    model = checkpoints.load(tmp_path / "a" / "b.pt", build)
    assert seen == [CONFIG] and isinstance(model, TinyNet)


def test_failing_save_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "net.pt"
    checkpoints.save(path, trained_net(0), CONFIG, version=1)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save(path, trained_net(1), CONFIG, version=2)
    assert path.read_bytes() == before
    assert checkpoints.read(path)["meta"] == {"version": 1}
    assert files_in(tmp_path) == ["net.pt"]


def test_save_rejects_values_that_weights_only_loading_could_not_read(tmp_path):
    with pytest.raises(TypeError, match=r"config\['act'\] is a function"):
        checkpoints.save(tmp_path / "x.pt", trained_net(), {**CONFIG, "act": lambda x: x})
    with pytest.raises(TypeError, match=r"meta\['net'\] is a TinyNet"):
        checkpoints.save(tmp_path / "x.pt", trained_net(), CONFIG, net=trained_net())
    with pytest.raises(TypeError, match="config must be a dict"):
        checkpoints.save(tmp_path / "x.pt", trained_net(), [1, 2])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        checkpoints.save(tmp_path / "x.pt", {"w": 1}, CONFIG)
    assert files_in(tmp_path) == []


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoints.load(tmp_path / "nope.pt", TinyNet)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all\n", os.urandom(2048)],
                         ids=["empty", "text", "random"])
def test_files_that_are_not_checkpoints(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        checkpoints.read(path)


def test_truncated_checkpoint(tmp_path):
    path = checkpoints.save(tmp_path / "net.pt", trained_net(), CONFIG)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt, truncated"):
        checkpoints.load(path, TinyNet)


def test_a_bare_state_dict_is_not_a_course_checkpoint(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save(trained_net().state_dict(), path)
    with pytest.raises(CheckpointError, match="not a course checkpoint"):
        checkpoints.read(path)


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "config": {}, "meta": {"obj": TinyNet()}}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint.*Unsupported global") as err:
        checkpoints.read(path)  # weights_only=True will not rebuild arbitrary classes
    assert "weights_only" not in str(err.value)  # no advice to switch the safety off


def test_state_dict_that_does_not_match_the_model(tmp_path):
    path = checkpoints.save(tmp_path / "net.pt", trained_net(), CONFIG)

    class Renamed(TinyNet):
        def __init__(self, **cfg):
            super().__init__(**cfg)
            self.extra = nn.Linear(1, 1)
            del self.norm

    with pytest.raises(CheckpointError) as err:
        checkpoints.load(path, Renamed)
    msg = str(err.value)
    assert "missing keys ['extra.weight', 'extra.bias']" in msg
    assert "unexpected keys ['norm.weight'" in msg


def test_shape_mismatch_is_named(tmp_path):
    path = checkpoints.save(tmp_path / "net.pt", trained_net(), CONFIG)
    with pytest.raises(CheckpointError, match=r"body.0.weight: checkpoint has shape \(5, 3\), model has \(7, 3\)"):
        checkpoints.load(path, lambda cfg: TinyNet(**{**cfg, "hidden": 7}))


def test_config_the_build_function_rejects(tmp_path):
    path = checkpoints.save(tmp_path / "net.pt", trained_net(), {**CONFIG, "depth": 4})
    with pytest.raises(CheckpointError, match="could not build a model.*TypeError.*depth"):
        checkpoints.load(path, TinyNet)
    with pytest.raises(CheckpointError, match="expected a torch.nn.Module"):
        checkpoints.load(path, lambda cfg: "not a model")


def test_saved_checkpoint_has_ordinary_file_permissions(tmp_path):
    """mkstemp's 0600 must not leak into the checkpoint: others (a grader, a web server) may need to read it."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = checkpoints.save(tmp_path / "m.pt", torch.nn.Linear(2, 2), {"in_features": 2, "out_features": 2})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
