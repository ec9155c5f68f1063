"""`genai-course train clip|captioner` and their `sample` verbs (text -> image retrieval, captions of images),
with the bad inputs each must refuse in one line without writing anything."""
import numpy as np
import pytest

from course_lib import checkpoints, cli, data, samples
from course_lib.models.diffusion import Diffusion

TINY = {"clip": ["--option", "width=4", "--option", "text_width=16", "--option", "n_layer=1", "--option", "embed_dim=8"],
        "captioner": ["--option", "width=4", "--option", "n_embd=16", "--option", "n_layer=1"]}
PROMPT = "a small red circle at the top"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("image_text")
    out = {}
    for family in ("clip", "captioner"):
        out[family] = folder / f"{family}.pt"
        assert cli.main(["train", family, "--dataset", "shapes", "--steps", "3", "--out", str(out[family]),
                         *TINY[family]]) == 0
    return out


@pytest.fixture
def image_file(tmp_path):
    test = data.load("shapes", split="test", n=6)
    path = tmp_path / "drawn.npz"
    samples.write_npz(path, test.images)                     # what `genai-course sample` of a t2i writes
    return path


def test_train_writes_a_checkpoint_of_the_family_with_its_figures(trained, capsys):
    for family, path in trained.items():
        meta = checkpoints.read(path)["meta"]
        assert meta["family"] == family and meta["dataset"] == "shapes" and meta["steps"] == 3
    meta = checkpoints.read(trained["clip"])["meta"]
    assert 0 <= meta["test_shape_acc"] <= 1 and 0 <= meta["test_recall5"] <= 1
    assert 0 <= checkpoints.read(trained["captioner"])["meta"]["test_all_right_greedy"] <= 1


def test_clip_retrieves_the_best_images_of_the_split_best_first(trained, tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert cli.main(["sample", str(trained["clip"]), "--prompt", PROMPT, "--n", "4", "--out", str(out),
                     "--option", "split=heldout"]) == 0
    f = np.load(out)
    assert f["images"].shape == (4, 3, 16, 16) and f["images"].dtype == np.float32
    assert np.all(np.diff(f["scores"]) <= 0) and np.all(np.abs(f["scores"]) <= 1 + 1e-5)
    held = data.load("shapes", split="heldout")
    np.testing.assert_array_equal(f["images"], held.images[f["indices"]].numpy())
    np.testing.assert_array_equal(f["attr_shape"], held.attributes["shape"][f["indices"]].numpy())
    assert str(f["prompt"]) == PROMPT and "among 1000 images of shapes heldout split" in capsys.readouterr().out


def test_clip_scores_images_from_a_file(trained, image_file, tmp_path):
    out = tmp_path / "r.npz"
    assert cli.main(["sample", str(trained["clip"]), "--prompt", PROMPT, "--n", "10", "--out", str(out),
                     "--option", f"images={image_file}"]) == 0
    f = np.load(out)
    assert sorted(f["indices"]) == list(range(6)) and "attr_shape" not in f.files     # all 6, no truth known


def test_captioner_captions_split_images_and_counts_the_right_ones(trained, tmp_path, capsys):
    out = tmp_path / "c.npz"
    assert cli.main(["sample", str(trained["captioner"]), "--n", "5", "--out", str(out)]) == 0
    f = np.load(out)
    assert f["images"].shape == (5, 3, 16, 16) and len(f["captions"]) == 5
    assert all(isinstance(c, str) and c for c in f["captions"].tolist())
    printed = capsys.readouterr().out
    assert "every attribute right:" in printed and "/5 (shapes test split)" in printed


def test_captioner_reads_a_file_and_samples_with_a_temperature(trained, image_file, tmp_path):
    outs = []
    for seed in (0, 0, 1):
        out = tmp_path / f"c{len(outs)}.npz"
        assert cli.main(["sample", str(trained["captioner"]), "--n", "6", "--out", str(out), "--seed", str(seed),
                         "--option", f"images={image_file}", "--option", "temperature=2"]) == 0
        outs.append(np.load(out)["captions"].tolist())
    assert outs[0] == outs[1] and outs[0] != outs[2] and len(outs[0]) == 6


@pytest.mark.parametrize("family, args, message", [
    ("clip", [], "non-empty --prompt"),
    ("clip", ["--prompt", "a small pink circle"], "'pink'"),
    ("clip", ["--prompt", PROMPT, "--option", "split=train"], r"split must be one of \['test', 'heldout'\]"),
    ("clip", ["--prompt", PROMPT, "--option", "guidance=3"], "unknown clip sampling option"),
    ("clip", ["--prompt", PROMPT, "--n", "0"], "--n must be a positive"),
    ("clip", ["--prompt", PROMPT, "--option", "images=missing.npz"], "no such images file"),
    ("captioner", ["--prompt", PROMPT], "reads images, not a --prompt"),
    ("captioner", ["--option", "temperature=0"], "temperature must be a number > 0"),
    ("captioner", ["--option", "split=test", "--option", "images=x.npz"], "not both"),
    ("captioner", ["--n", "-1"], "--n must be a positive"),
])
def test_bad_input_is_one_line_and_writes_nothing(trained, tmp_path, family, args, message):
    out = tmp_path / "o.npz"
    with pytest.raises(SystemExit, match=message) as err:
        cli.main(["sample", str(trained[family]), "--out", str(out), *args])
    assert "\n" not in str(err.value) and not list(tmp_path.iterdir())


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 1, 28, 28), np.float32), r"images must be \(N, 3, 16, 16\), got \(2, 1, 28, 28\)"),
    (np.full((2, 3, 16, 16), 2.0, np.float32), r"in \[0, 1\]"),
    (None, "has no `images` array"),
])
def test_an_images_file_that_does_not_fit_is_named(trained, tmp_path, images, message):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **({"x": np.zeros(3)} if images is None else {"images": images}))
    for family in ("clip", "captioner"):
        with pytest.raises(SystemExit, match=message):
            cli.main(["sample", str(trained[family]), "--out", str(tmp_path / "o.npz"), "--option", f"images={bad}",
                      *(["--prompt", PROMPT] if family == "clip" else [])])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npz"]


def test_a_checkpoint_of_another_family_is_refused(tmp_path):
    other = Diffusion(data_shape=(1, 8, 8), arch="unet", width=8)
    path = checkpoints.save(tmp_path / "d.pt", other, other.config_dict(), family="diffusion")
    from course_lib.recipes import captioner, clip
    with pytest.raises(SystemExit, match="'diffusion' family, not a clip"):
        clip.cli_sample(path, n=2, seed=0, out=tmp_path / "o.npz", options={"prompt": PROMPT})
    with pytest.raises(SystemExit, match="'diffusion' family, not a captioner"):
        captioner.cli_sample(path, n=2, seed=0, out=tmp_path / "o.npz", options={})
    assert not (tmp_path / "o.npz").exists()


@pytest.mark.parametrize("family", ["clip", "captioner"])
def test_train_refuses_an_unknown_dataset_or_option(tmp_path, family):
    with pytest.raises(SystemExit, match=r"trains on \['mnist_captions', 'shapes'\], got 'digits'"):
        cli.main(["train", family, "--dataset", "digits", "--steps", "2", "--out", str(tmp_path / "x.pt")])
    with pytest.raises(SystemExit, match=f"unknown {family} option"):
        cli.main(["train", family, "--dataset", "shapes", "--steps", "2", "--out", str(tmp_path / "x.pt"),
                  "--option", "widht=3"])
    assert not list(tmp_path.iterdir())
