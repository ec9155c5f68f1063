import random

import numpy as np
import pytest
import torch

from course_lib import config


def test_fast_flag_reads_environment(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.is_fast() and config.budget(1000, 10) == 10
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not config.is_fast() and config.budget(1000, 10) == 1000
    monkeypatch.delenv("COURSE_FAST")
    assert not config.is_fast()


def test_offline_flag(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "yes")
    assert config.is_offline()
    monkeypatch.setenv("COURSE_OFFLINE", "")
    assert not config.is_offline()


def test_data_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert config.data_dir().parts[-2:] == (".cache", "genai-course")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    assert config.data_dir() == tmp_path / "cache"


def test_seed_everything_repeats_all_generators():
    def draw():
        gen = config.seed_everything(123)
        return random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=gen)

    a, b = draw(), draw()
    assert a[0] == b[0] and a[1] == b[1]
    assert torch.equal(a[2], b[2]) and torch.equal(a[3], b[3])
    config.seed_everything(124)
    assert not torch.equal(torch.rand(3), a[2])


def test_seed_must_be_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        config.seed_everything("0")


def test_device_choice(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    dev = config.get_device()
    if expected:
        assert dev.type == "cuda"
    else:
        assert dev.type in {"mps", "cpu"}
    assert config.get_device("cpu").type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert config.get_device().type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is missing")
def test_asking_for_missing_cuda_says_so():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        config.get_device("cuda")


def test_progress_bar_is_plain_text_when_headless(monkeypatch):
    import tqdm.std

    monkeypatch.setenv("COURSE_HEADLESS", "1")
    bar = config.progress(total=3, disable=True)
    assert type(bar) is tqdm.std.tqdm
    monkeypatch.setenv("COURSE_HEADLESS", "0")
    assert not config.is_headless()


def test_fast_mode_shows_one_banner_in_a_notebook_and_none_in_full_mode(tmp_path):
    """A reader of a COURSE_FAST=1 run is told, in the output, that the figures are not meaningful."""
    import nbformat

    from course_lib import runner

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from course_lib import config\nprint(config.budget(10, 1))"),
        nbformat.v4.new_code_cell("print(config.budget(20, 2))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "demo.ipynb"
    nbformat.write(nb, src)
    for fast, shown in ((True, 1), (False, 0)):
        out = tmp_path / f"out_{fast}.ipynb"
        assert runner.run_notebook(src, out, fast=fast).ok
        outputs = [o for c in nbformat.read(out, as_version=4).cells for o in c.outputs]
        banners = [o for o in outputs if "FAST MODE" in o.get("data", {}).get("text/plain", "")]
        assert len(banners) == shown
        if shown:
            assert "FAST MODE" in banners[0]["data"]["text/html"]
        printed = "".join(o.get("text", "") for o in outputs)
        assert printed == ("1\n2\n" if fast else "10\n20\n")


def test_no_banner_outside_a_notebook(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.budget(10, 1) == 1
    assert capsys.readouterr().out == ""
