"""Captioned data (mnist_captions, shapes, shape_pairs) and the word tokenizer: shapes, determinism,
held-out combinations really held out, captions true of their images, clear errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import data
from course_lib.data import mnist_captions, shapes
from course_lib.data.captioned import CaptionGrammar
from course_lib.tokenizers import WordTokenizer, split_words


@pytest.fixture(scope="module")
def mnist_test():
    return data.load("mnist_captions", split="test")


@pytest.fixture(scope="module")
def one_shape():
    return data.load("shapes", n=600, seed=3)


@pytest.fixture(scope="module")
def pairs():
    return data.load("shape_pairs", n=600, seed=3)


# ----------------------------------------------------------------------------- form

@pytest.mark.parametrize("name, kwargs, shape, n_attrs", [
    ("mnist_captions", {}, (1, 28, 28), 4),
    ("shapes", {"n": 50}, (3, 16, 16), 4),
    ("shape_pairs", {"n": 50}, (3, 16, 16), 5),
])
def test_captioned_sets_have_images_captions_and_integer_attributes(name, kwargs, shape, n_attrs):
    info = data.info(name)
    assert info.kind == "captioned" and "test" in info.splits and "all" in info.splits
    d = data.load(name, split="test", **kwargs)
    assert isinstance(d, data.CaptionedData) and d.name == name
    assert d.images.dtype == torch.float32 and tuple(d.images.shape[1:]) == shape
    assert 0 <= d.images.min() and d.images.max() <= 1 and d.images.max() > 0.8
    assert len(d.captions) == len(d) == d.images.shape[0] and all(isinstance(c, str) and c for c in d.captions)
    assert len(d.attributes) == n_attrs
    for attr, values in d.grammar.values.items():
        v = d.attributes[attr]
        assert v.dtype == torch.int64 and v.shape == (len(d),)
        assert 0 <= v.min() and v.max() < len(values)
    assert torch.equal(d.labels, next(iter(d.attributes.values())))


def test_mnist_captions_are_the_mnist5k_images_and_splits(mnist_test):
    base = data.load("mnist5k", split="test")
    assert torch.equal(mnist_test.images, base.images) and torch.equal(mnist_test.attributes["digit"], base.labels)
    assert len(data.load("mnist_captions", split="all")) == 5000
    for c, d in zip(mnist_test.captions[:50], mnist_test.attributes["digit"][:50]):
        assert mnist_captions.DIGITS[d] in split_words(c)


def test_shapes_default_sizes_and_all_split():
    assert len(data.load("shapes", split="heldout")) == 1000
    every = data.load("shapes", split="all", n=20)
    assert len(every) == 60 and len(every.captions) == 60


# ----------------------------------------------------------------------------- determinism

@pytest.mark.parametrize("name", ["shapes", "shape_pairs"])
def test_generated_sets_are_deterministic_per_seed_and_split(name):
    a, b = data.load(name, n=40, seed=5), data.load(name, n=40, seed=5)
    assert torch.equal(a.images, b.images) and a.captions == b.captions
    assert all(torch.equal(a.attributes[k], b.attributes[k]) for k in a.attributes)
    other_seed, test = data.load(name, n=40, seed=6), data.load(name, split="test", n=40, seed=5)
    assert not torch.equal(a.images, other_seed.images) and not torch.equal(a.images, test.images)


def test_captions_are_seeded_and_vary_in_phrasing(mnist_test):
    again = data.load("mnist_captions", split="test")
    assert again.captions == mnist_test.captions
    other = data.load("mnist_captions", split="test", seed=1)
    assert other.captions != mnist_test.captions
    assert torch.equal(other.attributes["slant"], mnist_test.attributes["slant"])     # the truth is measured
    assert mnist_test.recaption(4) == mnist_test.recaption(4) != mnist_test.recaption(5)
    templates = {c.split()[0] + " " + c.split()[1] for c in mnist_test.captions}
    assert len(templates) >= 4                                      # several templates and phrasings in use
    assert {"little", "small"} <= {w for c in mnist_test.captions for w in c.split()}
    canonical = mnist_test.recaption(None)
    assert canonical == mnist_test.grammar.captions(mnist_test.attributes, seed=None)
    d, s, t, sl = (mnist_test.attributes[a][0].item() for a in ("digit", "size", "thickness", "slant"))
    assert canonical[0] == (f"a {('small', 'medium sized', 'large')[s]} {('thin', 'regular', 'thick')[t]} "
                            f"{mnist_captions.DIGITS[d]} {('slanted left', 'upright', 'slanted right')[sl]}")


# ----------------------------------------------------------------------------- held out

def _pair_ids(d, s="shape", c="colour") -> set:
    return set((d.attributes[s] * len(shapes.COLOURS) + d.attributes[c]).tolist())


def test_heldout_combinations_never_appear_in_training():
    train, test = data.load("shapes", n=3000), data.load("shapes", split="test", n=1000)
    heldout = data.load("shapes", split="heldout", n=500)
    assert len(shapes.HELDOUT_IDS) == len(shapes.HELDOUT) == 4
    assert not (_pair_ids(train) | _pair_ids(test)) & shapes.HELDOUT_IDS
    assert _pair_ids(heldout) == shapes.HELDOUT_IDS                 # every held-out pair is tested
    assert len(_pair_ids(train)) == 16                               # every other pair is trained on
    # ... and every shape and every colour on its own is seen in training: only the pairing is new
    assert set(train.attributes["shape"].tolist()) == set(range(4))
    assert set(train.attributes["colour"].tolist()) == set(range(5))
    for attr in ("size", "position"):
        assert set(heldout.attributes[attr].tolist()) == set(range(len(heldout.grammar.values[attr])))
    for split in ("train", "test"):
        p = data.load("shape_pairs", split=split, n=2000)
        assert not (_pair_ids(p, "shape1", "colour1") | _pair_ids(p, "shape2", "colour2")) & shapes.HELDOUT_IDS
    words = {w for c in heldout.captions for w in c.split()}
    assert {"green", "circle"} <= words


# ----------------------------------------------------------------------------- captions true of images

def _ink(images):
    """(N, 16, 16) ink coverage of RGB shapes on black."""
    return images.max(1).values


def test_shape_captions_name_the_colour_size_and_position_drawn(one_shape):
    d = one_shape
    ink = _ink(d.images)                                                       # (N, 16, 16)
    mask = ink > 0.5
    mean_rgb = (d.images * mask[:, None]).sum((2, 3)) / mask.sum((1, 2))[:, None]   # (N, 3)
    r, g, b = (mean_rgb / mean_rgb.max(1, keepdim=True).values).T            # hue: brightest channel = 1
    looks = {"red": (r == 1) & (g < 0.3) & (b < 0.3), "green": (g == 1) & (r < 0.3) & (b < 0.4),
             "blue": (b == 1) & (r < 0.3) & (g < 0.5), "yellow": (r > 0.8) & (g > 0.8) & (b < 0.3),
             "purple": (b == 1) & (r > 0.5) & (g < 0.4)}
    for k, name in enumerate(shapes.COLOURS):
        named = d.attributes["colour"] == k
        assert named.any() and looks[name][named].all(), name
    area = ink.sum((1, 2))
    for k in range(len(shapes.SHAPES)):                                       # every small one is smaller
        small = area[(d.attributes["size"] == 0) & (d.attributes["shape"] == k)]
        large = area[(d.attributes["size"] == 1) & (d.attributes["shape"] == k)]
        assert small.max() < large.min()
    ys, xs = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    cy, cx = (ink * ys).sum((1, 2)) / area, (ink * xs).sum((1, 2)) / area
    pos = d.attributes["position"]
    expect = {0: cy < 6.5, 1: cy > 8.5, 2: cx < 6.5, 3: cx > 8.5, 4: ((cx - 7.5).abs() < 1.5) & ((cy - 7.5).abs() < 1.5)}
    for p, ok in expect.items():
        assert ok[pos == p].all(), shapes.POSITIONS[p]
    for i in range(len(d)):                                                  # and the words say it
        words = " " + d.captions[i] + " "
        a = {k: v[i].item() for k, v in d.attributes.items()}
        assert f" {shapes.SHAPES[a['shape']]}" in words and f" {shapes.COLOURS[a['colour']]} " in words
        assert any(f" {p}" in words.replace(",", " ") for p in d.grammar.phrases["position"][a["position"]])


def test_shape_captions_name_the_shape_drawn(one_shape):
    """On the large shapes (8 px across, where the pixels resolve the outline): a square fills its
    bounding box, a circle fills about pi/4 of it with empty corners, a triangle has a point on top
    and both bottom corners inked, a cross has empty corners and fills little."""
    large = one_shape.attributes["size"] == 1
    mask = _ink(one_shape.images[large]) > 0.5                                # (n, 16, 16)
    features = []
    for m in mask:
        rows, cols = torch.nonzero(m.any(1))[:, 0], torch.nonzero(m.any(0))[:, 0]
        box = m[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]                   # the ink's bounding box
        corners = int(box[0, 0]) + int(box[0, -1]) + int(box[-1, 0]) + int(box[-1, -1])
        features.append((box.float().mean().item(), corners, int(box[0].sum() - box[-1].sum())))
    rules = {"circle": lambda fill, corners, top_minus_bottom: fill >= 0.7 and corners == 0,
             "square": lambda fill, corners, top_minus_bottom: fill >= 0.9 and abs(top_minus_bottom) <= 2,
             "triangle": lambda fill, corners, top_minus_bottom: top_minus_bottom <= -3 and corners == 2,
             "cross": lambda fill, corners, top_minus_bottom: fill < 0.7 and corners == 0}
    named = one_shape.attributes["shape"][large]
    for f, k in zip(features, named.tolist()):
        assert rules[shapes.SHAPES[k]](*f), (shapes.SHAPES[k], f)
    assert set(named.tolist()) == {0, 1, 2, 3}


def test_pair_captions_state_the_relation_drawn(pairs):
    d = pairs
    ys, xs = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    checked = 0
    for i in range(len(d)):
        a = {k: v[i].item() for k, v in d.attributes.items()}
        if a["colour1"] == a["colour2"]:
            continue
        centres = []
        for c in (a["colour1"], a["colour2"]):
            target = torch.tensor(shapes.RGB[c], dtype=torch.float32)[:, None, None]
            near = ((d.images[i] - target * d.images[i].max()).abs().sum(0) < 0.35) & (_ink(d.images[i:i + 1])[0] > 0.5)
            centres.append(((xs * near).sum() / near.sum(), (ys * near).sum() / near.sum()))
        (x1, y1), (x2, y2) = centres
        assert (x1 < x2 - 4) if a["relation"] == 0 else (y1 < y2 - 4), d.captions[i]
        checked += 1
        first, second = (f"a {shapes.COLOURS[a[c]]} {shapes.SHAPES[a[k]]}" for c, k in (("colour1", "shape1"),
                                                                                      ("colour2", "shape2")))
        forward = ("left of", "to the left of") if a["relation"] == 0 else ("above", "on top of")
        inverse = ("right of", "to the right of") if a["relation"] == 0 else ("below", "under")
        expected = [f"{first} {r} {second}" for r in forward] + [f"{second} {r} {first}" for r in inverse]
        assert d.captions[i] in expected, (d.captions[i], expected)
    assert checked > 400


def test_measure_recovers_stroke_width_slant_and_size():
    img = torch.zeros(3, 1, 28, 28)
    img[0, 0, 4:24, 12:14] = 1                                                # upright bar 2 px wide
    img[1, 0, 4:24, 11:15] = 1                                                # 4 px wide
    for r in range(4, 24):                                                    # leaning right: x falls with row
        x = 14 + (14 - r) * 0.4
        img[2, 0, r, int(round(x)) - 1:int(round(x)) + 1] = 1
    m = mnist_captions.measure(img)
    # ink w L over half the outline (L + w): the stroke width, less the two ends' share
    assert m["thickness"][0].item() == pytest.approx(2 * 20 / 22) and m["thickness"][1].item() == pytest.approx(4 * 20 / 24)
    assert m["slant"][0].abs() < 0.01 and m["slant"][2] == pytest.approx(0.4, abs=0.05)
    assert m["size"][0] == pytest.approx(20 / 12 ** 0.5, rel=0.05)           # a bar's radius of gyration


def test_mnist_attributes_follow_the_measurements_and_are_balanced():
    train = data.load("mnist_captions")
    for attr in ("size", "thickness", "slant"):
        counts = torch.bincount(train.attributes[attr], minlength=3).float() / len(train)
        assert ((counts - 1 / 3).abs() < 0.01).all(), (attr, counts)        # tertiles: a third each
    m = mnist_captions.measure(train.images)
    for attr in ("thickness", "slant"):
        means = [m[attr][train.attributes[attr] == v].mean() for v in range(3)]
        assert means[0] < means[1] < means[2]


def _shear(img, k):
    """Lean a digit right by k (k < 0: left): grid_sample reads the input at x + k y, y = -1 at the top."""
    theta = torch.tensor([[[1.0, k, 0.0], [0.0, 1.0, 0.0]]]).expand(len(img), 2, 3)
    grid = F.affine_grid(theta, img.shape, align_corners=False)
    return F.grid_sample(img, grid, align_corners=False)


def test_mnist_captions_change_when_the_image_changes(mnist_test):
    x, digits = mnist_test.images, mnist_test.attributes["digit"]
    attrs = mnist_test.attributes
    thin = attrs["thickness"] == 0
    thick = mnist_captions.attributes(F.max_pool2d(x[thin], 3, stride=1, padding=1), digits[thin])
    assert (thick["thickness"] == 2).float().mean() > 0.95                  # dilated strokes read as thick
    upright = attrs["slant"] == 1
    right = mnist_captions.attributes(_shear(x[upright], 0.5), digits[upright])
    left = mnist_captions.attributes(_shear(x[upright], -0.5), digits[upright])
    assert (right["slant"] == 2).float().mean() > 0.95 and (left["slant"] == 0).float().mean() > 0.95
    big = attrs["size"] == 2
    shrunk = F.pad(F.interpolate(x[big], size=16, mode="bilinear"), (6, 6, 6, 6))
    assert (mnist_captions.attributes(shrunk, digits[big])["size"] == 0).float().mean() > 0.95
    words = [set(split_words(c)) for c in mnist_test.captions]
    for i in torch.nonzero(thin)[:100, 0].tolist():
        assert words[i] & {"thin", "fine"} and not words[i] & {"thick", "bold"}


# ----------------------------------------------------------------------------- grammar and tokenizer

def test_grammar_vocabulary_covers_every_caption_and_combination(mnist_test, one_shape, pairs):
    for d in (mnist_test, one_shape, pairs):
        tok = WordTokenizer(d.words())
        for seed in (0, 1):
            ids = tok.batch(d.recaption(seed))                                # no unknown word anywhere
            assert ids.shape[0] == len(d)
        assert len(d.grammar.combinations()) == int(np.prod([len(v) for v in d.grammar.values.values()]))
    assert len(set(one_shape.combination_ids().tolist())) <= 160
    ids = one_shape.combination_ids()
    same = ids[:, None] == ids[None, :]
    truth = torch.stack(list(one_shape.attributes.values()), 1)
    assert torch.equal(same, (truth[:, None] == truth[None, :]).all(-1))


def test_grammar_refuses_templates_that_miss_an_attribute():
    with pytest.raises(ValueError, match=r"must mention every attribute \['colour', 'shape'\].*missing \['colour'\]"):
        CaptionGrammar(values={"shape": ("circle",), "colour": ("red",)},
                       phrases={"shape": (("circle",),), "colour": (("red",),)}, templates=("a {shape}",))
    with pytest.raises(ValueError, match="at least one phrasing for each of its values"):
        CaptionGrammar(values={"shape": ("circle", "square")}, phrases={"shape": (("circle",),)},
                       templates=("a {shape}",))


def test_word_tokenizer_encodes_pads_and_round_trips(tmp_path):
    tok = WordTokenizer(["a", "red", "circle", ","])
    assert tok.vocab_size == 5 and tok.itos[0] == "<pad>"
    ids = tok.batch(["A red circle", "a circle, red"], length=6)
    assert ids.shape == (2, 6) and ids.dtype == torch.long
    assert ids[0, 3:].eq(0).all() and ids[1, 4:].eq(0).all() and ids[1, 2] == tok.stoi[","]
    assert tok.decode(ids[1]) == "a circle, red"
    path = tok.save(tmp_path / "words.json")
    assert WordTokenizer.load(path) == tok


@pytest.mark.parametrize("text, message", [
    ("a blue circle", r"word 'blue' in 'a blue circle' is not in the vocabulary; the 4 known words are: , a circle red"),
    ("a red circel", r"word 'circel' .*did you mean 'circle'"),
    ("", r"the text is empty \(''\): a caption needs at least one word"),
    ("   ", r"the text is empty"),
])
def test_word_tokenizer_names_what_is_wrong(text, message):
    tok = WordTokenizer(["a", "red", "circle", ","])
    with pytest.raises(ValueError, match=message):
        tok.encode(text)
    with pytest.raises(ValueError, match="more than the 2 allowed"):
        tok.batch(["a red circle"], length=2)
    with pytest.raises(TypeError, match="wrap it in a list"):
        tok.batch("a red circle")
    with pytest.raises(ValueError, match="lower-case words"):
        WordTokenizer(["Red circle"])


@pytest.mark.parametrize("name, kwargs, err, message", [
    ("shapes", {"split": "val"}, ValueError, r"'shapes' has splits 'train', 'test', 'heldout', 'all'; got split='val'"),
    ("shape_pairs", {"split": "heldout"}, ValueError, r"'shape_pairs' has splits 'train', 'test', 'all'"),
    ("shapes", {"n": 0}, ValueError, "n must be a positive int"),
    ("shapes", {"n": 2.5}, ValueError, "n must be a positive int"),
    ("shapes", {"seed": -1}, ValueError, "seed must be a non-negative int"),
    ("mnist_captions", {"seed": "a"}, ValueError, "seed must be a non-negative int"),
    ("mnist_captions", {"n": 5}, TypeError, r"unexpected argument\(s\) n; it accepts: split, seed"),
])
def test_bad_arguments_are_named(name, kwargs, err, message):
    with pytest.raises(err, match=message):
        data.load(name, **kwargs)


def test_measure_refuses_colour_images():
    with pytest.raises(ValueError, match=r"images must be a \(N, 1, H, W\) tensor, got \(2, 3, 16, 16\)"):
        mnist_captions.measure(torch.zeros(2, 3, 16, 16))
