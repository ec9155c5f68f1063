"""The captioner: cross-attention shapes, reading the image, the causal mask, decoding, checkpoints, errors."""
import pytest
import torch

from course_lib import checkpoints, data
from course_lib.models.captioner import Captioner, CrossAttention
from course_lib.recipes import captioner as recipe

WORDS = ["a", "red", "blue", "circle", "square", "big"]


def small(**kw):
    torch.manual_seed(0)
    cfg = dict(words=WORDS, image_channels=3, image_size=8, width=4, n_embd=16, n_layer=2, n_head=2, max_words=6)
    cfg.update(kw)
    return Captioner.from_config(cfg).eval()


def test_cross_attention_shapes_and_weights():
    torch.manual_seed(0)
    att = CrossAttention(16, 4)
    x, m = torch.randn(2, 5, 16), torch.randn(2, 9, 16)          # 5 words, 9 image regions
    assert att(x, m).shape == (2, 5, 16)
    w = att.last_weights
    assert w.shape == (2, 4, 5, 9)                                 # (B, nh, T, S)
    assert torch.allclose(w.sum(-1), torch.ones(2, 4, 5))          # a distribution over regions per word
    # the output at a word depends only on that word and the image: shuffling the other words changes nothing
    y = att(x, m)
    x2 = x.clone()
    x2[:, 1:] = torch.randn(2, 4, 16)
    assert torch.allclose(att(x2, m)[:, 0], y[:, 0], atol=1e-6)


def test_decoder_reads_the_image():
    model = small()
    images = torch.stack([torch.zeros(3, 8, 8), torch.ones(3, 8, 8), torch.zeros(3, 8, 8)])
    inputs = torch.tensor([[model.start_id, 1, 4]] * 3)
    logits = model.logits(images, inputs)                          # (3, 3, V)
    assert logits.shape == (3, 3, model.tokenizer.vocab_size)
    # same words, other image: other logits at every position (an ignored image gives a difference of exactly 0)
    assert ((logits[0] - logits[1]).abs().amax(-1) > 1e-6).all()
    assert torch.allclose(logits[0], logits[2], atol=1e-6)


def test_causal_mask():
    model = small()
    images = torch.rand(1, 3, 8, 8)
    a = model.logits(images, torch.tensor([[model.start_id, 1, 2, 3]]))
    b = model.logits(images, torch.tensor([[model.start_id, 1, 5, 6]]))
    assert torch.allclose(a[:, :2], b[:, :2], atol=1e-6)           # later words do not reach earlier logits
    assert not torch.allclose(a[:, 2:], b[:, 2:], atol=1e-4)


def test_loss_ignores_padding_and_counts_end():
    model = small()
    images = torch.rand(2, 3, 8, 8)
    tok = model.tokenize(["a red circle", "a square"])             # (2, 3), second row padded
    padded = torch.cat([tok, torch.zeros(2, 2, dtype=torch.long)], 1)
    assert torch.allclose(model.loss(images[:1], tok[:1]), model.loss(images[:1], padded[:1]), atol=1e-6)
    # the loss is the mean over 3 + 1 (<end>) targets of the first caption: check by hand
    inputs = torch.tensor([[model.start_id, *tok[0].tolist()]])
    logp = model.logits(images[:1], inputs).log_softmax(-1)[0]      # (4, V)
    target = tok[0].tolist() + [0]
    by_hand = -sum(logp[i, t] for i, t in enumerate(target)) / 4
    assert torch.allclose(model.loss(images[:1], tok[:1]), by_hand, atol=1e-5)


def test_greedy_deterministic_and_sampling_seeded():
    model = small()
    images = torch.rand(4, 3, 8, 8)
    assert model.caption(images) == model.caption(images)
    s1 = model.caption(images, greedy=False, generator=torch.Generator().manual_seed(3))
    s2 = model.caption(images, greedy=False, generator=torch.Generator().manual_seed(3))
    s3 = [model.caption(images, greedy=False, generator=torch.Generator().manual_seed(k)) for k in range(4, 8)]
    assert s1 == s2 and any(s != s1 for s in s3)
    assert all(len(c.split()) <= 6 for c in s1)
    assert model.caption(images, max_len=1, greedy=False, generator=torch.Generator().manual_seed(0)) != []


def test_learns_captions_through_cross_attention():
    """Eight scenes, one canonical caption each: teacher forcing must make greedy decoding say them back.

    Every caption starts "a" and the words after it depend on the image only, so this cannot pass
    without reading the image."""
    d = data.load("shapes", split="train", n=8, seed=3)
    captions = d.recaption(None)                                   # canonical: "a small red circle at the top"
    torch.manual_seed(0)
    model = recipe.build(d, width=8, n_embd=32, n_layer=1, n_head=2)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    tokens = model.tokenize(captions)
    first = model.loss(d.images, tokens).item()
    for _ in range(150):
        loss = model.loss(d.images, tokens)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 10, (first, loss.item())
    assert model.caption(d.images) == captions


def test_checkpoint_round_trip(tmp_path):
    model = small()
    images = torch.rand(3, 3, 8, 8)
    path = checkpoints.save(tmp_path / "cap.pt", model, model.config_dict())
    back = checkpoints.load(path, Captioner.from_config).eval()
    inputs = torch.tensor([[model.start_id, 1, 2]] * 3)
    assert torch.equal(model.logits(images, inputs), back.logits(images, inputs))
    assert back.caption(images) == model.caption(images)
    from course_lib.models.clip import CLIP
    clip = CLIP.from_config({"words": WORDS, "image_channels": 3, "image_size": 8})
    other = checkpoints.save(tmp_path / "clip.pt", clip, clip.config_dict())
    with pytest.raises(checkpoints.CheckpointError, match="different model"):
        checkpoints.load(other, Captioner.from_config)


def test_bad_input():
    model = small()
    with pytest.raises(ValueError, match=r"images must have shape \(N, 3, 8, 8\) float"):
        model.caption(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        model.tokenize(["a green circle"])
    with pytest.raises(ValueError, match="at most 5 words"):
        model.tokenize(["a red circle a big square"])
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.caption(torch.rand(1, 3, 8, 8), greedy=False, temperature=0)
    with pytest.raises(ValueError, match="max_len"):
        model.caption(torch.rand(1, 3, 8, 8), max_len=0)
    with pytest.raises(ValueError, match="one caption per image"):
        model.loss(torch.rand(2, 3, 8, 8), model.tokenize(["a circle"]))
    with pytest.raises(ValueError, match="divisible by 4"):
        small(image_size=6)
    with pytest.raises(ValueError, match="budget"):
        recipe.train(model, None)


def test_split_colour_keeps_form_colour_blind():
    model = small(split_colour=True)
    pattern = torch.rand(8, 8)
    red, green = torch.zeros(2, 3, 8, 8).unbind(0)
    red[0], green[1] = pattern, pattern                            # one shape, two colours
    memory = model.encode(torch.stack([red, green]))               # (2, 2S, C), S = 4 regions
    assert memory.shape == (2, 8, 16)
    assert torch.allclose(memory[0, :4], memory[1, :4], atol=1e-6)   # form tokens: the same
    assert not torch.allclose(memory[0, 4:], memory[1, 4:], atol=1e-4)  # colour tokens: not
    with pytest.raises(ValueError, match="split_colour must be True or False"):
        small(split_colour="yes")
