"""DPO: the loss on fixed log-probabilities, its gradient's direction, and the sequence log-probability."""
import math

import pytest
import torch

from course_lib.models.gpt import GPT, GPTConfig
from course_lib.preference import dpo_loss, sequence_logprob


def test_dpo_loss_on_fixed_log_probabilities():
    z = torch.zeros(3)
    loss, stats = dpo_loss(z, z, z, z, beta=0.1)                  # policy = reference: log 2, no margin
    assert math.isclose(loss.item(), math.log(2), rel_tol=1e-6) and stats["margin"] == 0
    pc, pr = torch.tensor([-3.0, -5.0]), torch.tensor([-4.0, -4.0])
    rc, rr = torch.tensor([-3.5, -4.0]), torch.tensor([-3.5, -4.5])
    loss, stats = dpo_loss(pc, pr, rc, rr, beta=0.5)
    margins = 0.5 * ((pc - rc) - (pr - rr))                       # 0.5 * (0.5 + 0.5), 0.5 * (-1 - 0.5)
    assert torch.allclose(margins, torch.tensor([0.5, -0.75]))
    expected = -torch.log(torch.sigmoid(margins)).mean()
    assert math.isclose(loss.item(), expected.item(), rel_tol=1e-6)
    assert stats["accuracy"] == 0.5 and math.isclose(stats["margin"], margins.mean().item(), rel_tol=1e-6)


def test_the_gradient_raises_the_chosen_and_lowers_the_rejected():
    pc, pr = torch.zeros(4, requires_grad=True), torch.zeros(4, requires_grad=True)
    loss, _ = dpo_loss(pc, pr, torch.zeros(4), torch.zeros(4), beta=1.0)
    loss.backward()
    assert (pc.grad < 0).all() and (pr.grad > 0).all()           # descent moves chosen up, rejected down
    with pytest.raises(ValueError, match="beta must be > 0"):
        dpo_loss(pc, pr, pc, pr, beta=0.0)
    with pytest.raises(ValueError, match="one shape"):
        dpo_loss(pc, pr[:3], pc, pr, beta=0.1)


def test_sequence_logprob_sums_the_continuation_tokens_only():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=7, block_size=8, n_layer=1, n_head=1, n_embd=8)).eval()
    ids = torch.randint(0, 7, (2, 6))
    with torch.no_grad():
        got = sequence_logprob(m, ids, 2)
        logits, _ = m(ids)
        logp = torch.log_softmax(logits, -1)
        by_hand = torch.stack([sum(logp[b, j - 1, ids[b, j]] for j in range(2, 6)) for b in range(2)])
        assert torch.allclose(got, by_hand, atol=1e-5)
        per_row = sequence_logprob(m, ids, torch.tensor([2, 5]))   # row 1: only its last token
        assert torch.allclose(per_row[1], logp[1, 4, ids[1, 5]], atol=1e-5)
        changed = ids.clone()
        changed[:, 0] = (changed[:, 0] + 1) % 7                   # the prompt conditions the continuation
        assert not torch.allclose(sequence_logprob(m, changed, 2), got)
    with pytest.raises(ValueError, match="prompt_len must be in 1..5"):
        sequence_logprob(m, ids, 6)
