"""mini-CLIP: the symmetric InfoNCE against a hand computation, the learned temperature, the encoders'
masks and shapes, zero-shot scoring, retrieval, checkpoints, a short training run, clear errors."""
import math

import pytest
import torch

from course_lib import checkpoints, data
from course_lib.metrics.retrieval import class_prompts, text_to_image_recall, zero_shot_accuracy
from course_lib.models.clip import CLIP, CLIPConfig, infonce, recall_at_k
from course_lib.recipes import clip as recipe

WORDS = ["a", "red", "blue", "circle", "square", "at", "the", "top", ","]
SMALL = dict(words=WORDS, image_channels=3, image_size=16, width=4, text_width=16, n_layer=1, n_head=2,
             max_words=8, embed_dim=8)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return CLIP.from_config(SMALL)


def _images(n, seed=0):
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- the loss

def test_infonce_matches_a_hand_computation():
    logits = torch.tensor([[2.0, 0.0], [1.0, 3.0]])
    rows = [-math.log(math.exp(2) / (math.exp(2) + 1)), -math.log(math.exp(3) / (math.exp(1) + math.exp(3)))]
    cols = [-math.log(math.exp(2) / (math.exp(2) + math.exp(1))), -math.log(math.exp(3) / (1 + math.exp(3)))]
    expected = (sum(rows) / 2 + sum(cols) / 2) / 2
    assert infonce(logits).item() == pytest.approx(expected, rel=1e-6)
    # same ids: both captions are right for both images, so the target is 1/2 everywhere
    p = torch.softmax(logits, 1)
    q = torch.softmax(logits.T, 1)
    both = (-(0.5 * p.log()).sum(1).mean() - (0.5 * q.log()).sum(1).mean()) / 2
    assert infonce(logits, torch.tensor([7, 7])).item() == pytest.approx(both.item(), rel=1e-6)


def test_infonce_is_symmetric_and_distinct_groups_change_nothing():
    logits = torch.randn(6, 6, generator=torch.Generator().manual_seed(1))
    assert infonce(logits).item() == pytest.approx(infonce(logits.T).item(), rel=1e-6)
    assert infonce(logits, torch.arange(6) * 3).item() == pytest.approx(infonce(logits).item(), rel=1e-6)
    groups = torch.tensor([0, 1, 0, 2, 3, 1])
    assert infonce(logits, groups).item() == pytest.approx(infonce(logits.T, groups).item(), rel=1e-6)
    perfect = torch.eye(4) * 50
    assert infonce(perfect).item() < 1e-6 and infonce(-perfect).item() > 50
    with pytest.raises(ValueError, match=r"logits must be square \(B, B\), got \(2, 3\)"):
        infonce(torch.zeros(2, 3))


def test_temperature_gradient_is_the_derivative_and_stops_at_the_clamp(model):
    cos = torch.tensor([[0.9, 0.1, -0.2], [0.0, 0.8, 0.3], [0.2, -0.1, 0.7]])
    log_s = torch.tensor(math.log(5.0), requires_grad=True)
    infonce(log_s.exp() * cos).backward()
    eps = 1e-3
    numeric = (infonce(math.exp(math.log(5.0) + eps) * cos) - infonce(math.exp(math.log(5.0) - eps) * cos)) / (2 * eps)
    assert log_s.grad.item() == pytest.approx(numeric.item(), rel=1e-3)
    assert log_s.grad.item() < 0                              # the diagonal wins: sharper is better here
    # in the model: the scale starts at 1 / 0.07, learns, and is clamped at 100
    assert model.logit_scale().item() == pytest.approx(1 / 0.07, rel=1e-5)
    images, tokens = _images(3), model.tokenize(["a red circle", "a blue square", "a red square at the top"])
    model.loss(images, tokens).backward()
    assert model.log_scale.grad is not None and model.log_scale.grad.item() != 0
    model.zero_grad()
    with torch.no_grad():
        model.log_scale.fill_(math.log(500.0))
    assert model.logit_scale().item() == pytest.approx(100.0, rel=1e-5)
    model.loss(images, tokens).backward()
    assert model.log_scale.grad.item() == 0


# ----------------------------------------------------------------------------- the encoders

def test_embeddings_are_unit_vectors_and_logits_are_scaled_cosines(model):
    images = _images(5)
    tokens = model.tokenize(["a red circle", "a blue square", "a circle at the top"])
    img, txt = model.encode_image(images), model.encode_text(tokens)
    assert img.shape == (5, 8) and txt.shape == (3, 8) and tokens.shape == (3, 8)
    assert torch.allclose(img.norm(dim=1), torch.ones(5)) and torch.allclose(txt.norm(dim=1), torch.ones(3))
    logits = model.logits(images, tokens)
    assert logits.shape == (5, 3)
    assert torch.allclose(logits, (1 / 0.07) * img @ txt.T, atol=1e-5)


def test_padding_changes_nothing_and_every_word_sees_every_other(model):
    model.eval()
    short = model.tokenizer.batch(["a red circle", "a blue square at the top"])            # (2, 6)
    long = model.tokenizer.batch(["a red circle", "a blue square at the top"], length=8)   # (2, 8)
    assert short.shape[1] == 6
    assert torch.allclose(model.encode_text(short), model.encode_text(long), atol=1e-6)
    # non-causal: the first word's vector depends on the last word
    block = model.blocks[0]
    a, b = model.tokenizer.batch(["a red circle"]), model.tokenizer.batch(["a red square"])
    keep = torch.ones(1, 3, dtype=torch.bool)
    pos = model.pos_emb(torch.arange(3))
    out_a, out_b = block(model.tok_emb(a) + pos, keep), block(model.tok_emb(b) + pos, keep)
    assert not torch.allclose(out_a[0, 0], out_b[0, 0])


def test_classify_scores_captions_and_marginalises_lists(model):
    images = _images(6)
    captions = ["a red circle", "a blue circle", "a red square", "a blue square"]
    logits = model.logit_scale() * model.embed_images(images) @ model.embed_captions(captions).T   # (6, 4)
    assert torch.equal(model.classify(images, captions), logits.argmax(1))
    by_colour = model.classify(images, [["a red circle", "a red square"], ["a blue circle", "a blue square"]])
    expected = torch.stack([logits[:, [0, 2]].logsumexp(1), logits[:, [1, 3]].logsumexp(1)], 1).argmax(1)
    assert torch.equal(by_colour, expected) and by_colour.dtype == torch.long
    assert model.training                                        # classify put it back as it was


def test_a_class_of_several_fair_captions_beats_one_good_caption(model, monkeypatch):
    """logsumexp, not max: class 1's two captions (logit 2.5 each) outweigh class 0's one (3.0)."""
    s = model.logit_scale().item()
    cos = torch.tensor([3.0 / s, -0.7, 2.5 / s, 2.5 / s])
    captions = torch.stack([cos, (1 - cos ** 2).sqrt()], 1)                  # (4, 2) unit vectors
    monkeypatch.setattr(model, "embed_images", lambda images: torch.tensor([[1.0, 0.0]]))
    monkeypatch.setattr(model, "embed_captions", lambda texts: captions[:len(texts)])
    assert model.classify(_images(1), [["a red circle", "a blue circle"], ["a red square", "a blue square"]]).item() == 1
    assert model.classify(_images(1), ["a red circle", "a blue circle", "a red square"]).item() == 0


def test_recall_at_k_on_a_small_example():
    scores = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.3, 0.1], [0.0, 0.1, 0.2]])
    relevant = torch.tensor([[False, False, True], [True, False, False], [False, False, False]])
    assert recall_at_k(scores, relevant, 1) == 0.0
    assert recall_at_k(scores, relevant, 2) == pytest.approx(2 / 3)           # row 1's hit is 2nd
    assert recall_at_k(scores, relevant, 3) == pytest.approx(2 / 3)           # row 2 has nothing relevant
    with pytest.raises(ValueError, match="must have one shape"):
        recall_at_k(scores, relevant[:2], 1)


# ----------------------------------------------------------------------------- the protocol

def test_config_round_trip_and_checkpoint(model, tmp_path):
    cfg = model.config_dict()
    assert cfg["words"] == sorted(WORDS) and CLIP.from_config(cfg).config_dict() == cfg
    path = checkpoints.save(tmp_path / "clip.pt", model, cfg, steps=0)
    loaded = checkpoints.load(path, CLIP.from_config)
    images, tokens = _images(4), model.tokenize(["a red circle"] * 4)
    model.eval()
    assert torch.equal(loaded.logits(images, tokens), model.logits(images, tokens))
    assert loaded.tokenizer == model.tokenizer


@pytest.mark.parametrize("call, message", [
    (lambda m: m.encode_image(torch.rand(2, 1, 16, 16)), r"images must have shape \(N, 3, 16, 16\) float, got \(2, 1, 16, 16\)"),
    (lambda m: m.encode_image(torch.rand(3, 16, 16)), r"images must have shape \(N, 3, 16, 16\) float, got \(3, 16, 16\)"),
    (lambda m: m.encode_image(torch.zeros(2, 3, 16, 16, dtype=torch.uint8)), r"got \(2, 3, 16, 16\) torch.uint8"),
    (lambda m: m.tokenize(["a green circle"]), r"word 'green' in 'a green circle' is not in the vocabulary"),
    (lambda m: m.tokenize([""]), r"the text is empty"),
    (lambda m: m.tokenize(["a red circle at the top , a blue square"]), r"more than the 8 allowed"),
    (lambda m: m.encode_text(torch.zeros(2, 3, dtype=torch.long)), r"a caption is empty \(all padding\)"),
    (lambda m: m.encode_text(torch.full((1, 3), 99)), r"token ids must be in \[0, 9\], got 99..99"),
    (lambda m: m.encode_text(torch.ones(1, 9, dtype=torch.long)), r"1 <= T <= 8, got \(1, 9\)"),
    (lambda m: m.loss(_images(3), m.tokenize(["a red circle"] * 2)), r"as many captions as images, got 2 and 3"),
    (lambda m: m.classify(_images(2), "a red circle"), r"a non-empty list of captions"),
    (lambda m: m.embed_captions([]), r"a non-empty list of strings"),
])
def test_bad_input_is_named(model, call, message):
    with pytest.raises(ValueError, match=message):
        call(model)


@pytest.mark.parametrize("change, message", [
    ({"image_size": 18}, "image_size must be divisible by 4"),
    ({"text_width": 15}, r"text_width \(15\) must be divisible by n_head \(2\)"),
    ({"width": 0}, "width must be a positive int, got 0"),
    ({"init_temperature": 0.001}, r"init_temperature in \[1 / max_logit_scale, 1\]"),
    ({"words": []}, "words must be a non-empty list"),
])
def test_bad_config_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        CLIPConfig(**{**SMALL, **change})


# ----------------------------------------------------------------------------- training

def test_a_short_run_lowers_the_loss_and_retrieves_far_above_chance():
    torch.manual_seed(0)
    train, test = data.load("shapes", n=2000), data.load("shapes", split="test", n=300)
    model = recipe.build([train], width=8, text_width=32, n_layer=1, n_head=2, embed_dim=32)
    history = recipe.train(model, [train], steps=120, batch_size=64, lr=3e-3, seed=0)
    first, last = sum(history.loss[:10]) / 10, sum(history.loss[-10:]) / 10
    assert last < first - 1.0, (first, last)
    recall, queries = text_to_image_recall(model, test, k=5)
    ids = test.combination_ids()
    chance = sum(1 - (1 - (ids == c).float().mean().item()) ** 5 for c in ids.unique()) / queries
    assert recall > 5 * chance, (recall, chance)
    colour_shape = zero_shot_accuracy(model, test, ("shape", "colour"))
    assert colour_shape > 4 / 20, colour_shape                    # chance is 1 / 20


def test_training_is_deterministic_given_the_seeds():
    train = data.load("shapes", n=300)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = recipe.build([train], width=4, text_width=16, n_layer=1, n_head=2, embed_dim=8)
        runs.append(recipe.train(model, [train], steps=4, batch_size=32, seed=3).loss)
    assert runs[0] == runs[1]
    torch.manual_seed(0)
    model = recipe.build([train], width=4, text_width=16, n_layer=1, n_head=2, embed_dim=8)
    assert recipe.train(model, [train], steps=4, batch_size=32, seed=4).loss != runs[0]   # other batches


def test_class_prompts_cover_every_combination_once():
    grammar = data.load("shapes", n=5).grammar
    keys, prompts = class_prompts(grammar, ("shape", "colour"))
    assert len(keys) == 20 and all(len(p) == 10 for p in prompts)             # 2 sizes x 5 positions each
    assert prompts[keys.index((0, 0))][0] == "a small red circle at the top"
    with pytest.raises(ValueError, match=r"attributes must be a non-empty subset of \['shape', 'colour', 'size', 'position'\]"):
        zero_shot_accuracy(None, data.load("shapes", n=5), ("hue",))
