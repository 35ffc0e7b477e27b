"""The one teacher-forced NLL on hand-computed answers: its reductions, masking and batching."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from memnb.data.tasks.base import IGNORE
from memnb.eval.nll import target_nll, total_nll

pytestmark = pytest.mark.usefixtures("one_thread")

# Three positions over 4 tokens, each with a known softmax:
#   zeros, target 2            -> p = 1/4 -> NLL ln 4
#   [ln 3, 0, 0, 0], target 0  -> p = 3/6 -> NLL ln 2
#   [0, ln 5, 0, 0], target 1  -> p = 5/8 -> NLL ln 8/5
LOGITS = torch.tensor(
    [[0.0, 0.0, 0.0, 0.0], [math.log(3), 0.0, 0.0, 0.0], [0.0, math.log(5), 0.0, 0.0]], dtype=torch.float64
)
TARGETS = torch.tensor([2, 0, 1])
NLL = [math.log(4), math.log(2), math.log(8 / 5)]


def test_three_token_toy_known_answer() -> None:
    assert target_nll(LOGITS, TARGETS, reduction="sum").item() == pytest.approx(math.log(64 / 5), rel=1e-14)
    assert target_nll(LOGITS, TARGETS).item() == pytest.approx(math.log(64 / 5) / 3, rel=1e-14)
    assert target_nll(LOGITS, TARGETS, reduction="none").tolist() == pytest.approx(NLL, rel=1e-14)


def test_masked_targets_are_not_scored_and_rows_average_their_own_targets() -> None:
    """Rows [ln 4, —] and [ln 2, ln 8/5]: per example the mean of each row's scored targets; the
    token mean divides the sum by the 3 scored targets (a mean of means would give another number)."""
    logits = torch.stack([torch.stack([LOGITS[0], LOGITS[0]]), LOGITS[1:]])  # [2, 2, 4]
    targets = torch.tensor([[2, IGNORE], [0, 1]])
    per = target_nll(logits, targets, reduction="none")
    assert per.flatten().tolist() == pytest.approx([NLL[0], 0.0, *NLL[1:]], rel=1e-14)
    assert target_nll(logits, targets, reduction="example").tolist() == pytest.approx(
        [NLL[0], (NLL[1] + NLL[2]) / 2], rel=1e-14
    )
    assert target_nll(logits, targets, reduction="sum").item() == pytest.approx(sum(NLL), rel=1e-14)
    assert target_nll(logits, targets).item() == pytest.approx(sum(NLL) / 3, rel=1e-14)


def test_gradients_flow_and_bad_reductions_are_refused() -> None:
    logits = LOGITS.clone().requires_grad_()
    target_nll(logits, TARGETS).backward()
    p = torch.softmax(LOGITS, -1)
    want = (p - nn.functional.one_hot(TARGETS, 4)) / 3  # d mean NLL / d logits = (softmax − onehot) / n
    assert torch.allclose(logits.grad, want, atol=1e-14)
    with pytest.raises(ValueError, match="reduction"):
        target_nll(LOGITS, TARGETS, reduction="max")


class Table(nn.Module):
    """A bigram model: logits at t are a row of a table indexed by token t (no state)."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(vocab, vocab, dtype=torch.float64))

    def forward(self, x: torch.Tensor, state=None, *, temperature: float = 1.0):
        return self.table[x] / temperature, state


def test_total_nll_sums_every_row_in_any_batching_and_passes_forward_keywords() -> None:
    torch.manual_seed(0)
    m = Table(6).train()
    x, y = torch.randint(0, 6, (7, 5)), torch.randint(0, 6, (7, 5))
    ref = target_nll(m.table[x], y, reduction="sum").item()
    for batch_size in (1, 3, 7, 16):
        assert total_nll(m, x, y, batch_size=batch_size) == pytest.approx(ref, rel=1e-12)
    assert m.training  # mode restored
    hot = target_nll(m.table[x] / 2.0, y, reduction="sum").item()
    assert total_nll(m, x, y, temperature=2.0) == pytest.approx(hot, rel=1e-12)
