"""The causality probe on known answers: a causal mixer gives exactly 0, a planted leak its size."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from memnb.eval import probes


class Mixer(nn.Module):
    """y_t = Σ_{s ≤ t} x_s + peek · x_{t + 1} (x_T = 0): causal when ``peek == 0``."""

    def __init__(self, peek: float = 0.0) -> None:
        super().__init__()
        self.peek = peek

    def forward(self, x: torch.Tensor, state=None, *, scale: float = 1.0):
        ahead = torch.cat([x[:, 1:], torch.zeros_like(x[:, :1])], 1)
        return scale * (x.cumsum(1) + self.peek * ahead), state


def shift_by(delta: float) -> probes.Edit:
    return lambda column: column + delta


def x() -> torch.Tensor:
    return torch.randn(2, 12, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_a_causal_model_gives_exactly_zero_for_noise_and_token_edits() -> None:
    assert probes.future_leak(Mixer(), x(), 5) == 0.0
    assert probes.future_leak(Mixer(), x(), [1, 6, 11], upto="<") == 0.0
    ids = torch.randint(0, 7, (2, 12), generator=torch.Generator().manual_seed(1))
    assert probes.future_leak(Mixer(), ids, range(11), edit=probes.next_token(7), upto="<=") == 0.0


def test_a_planted_leak_is_detected_with_its_size() -> None:
    """Adding 2 to x_s moves y_{s−1} by peek · 2 = 0.5 · 2 = 1 and no earlier position."""
    m = Mixer(peek=0.5)
    assert probes.future_leak(m, x(), 6, edit=shift_by(2.0)) == pytest.approx(1.0, rel=1e-12)
    assert probes.future_leak(m, x(), [3, 9], edit=shift_by(2.0), scale=3.0) == pytest.approx(3.0, rel=1e-12)


def test_the_two_reading_conventions_differ_by_one_position() -> None:
    """upto='<' at t + 1 is upto='<=' at t: both edit the input at t + 1 and read positions ≤ t."""
    m = Mixer(peek=0.25)
    for t in (0, 4, 10):
        assert probes.future_leak(m, x(), t, edit=shift_by(1.0), upto="<=") == probes.future_leak(
            m, x(), t + 1, edit=shift_by(1.0), upto="<"
        )


def test_token_edit_always_changes_the_id_and_stays_in_the_vocabulary() -> None:
    ids = torch.arange(7)
    edited = probes.next_token(7)(ids)
    assert torch.equal(edited, torch.tensor([1, 2, 3, 4, 5, 6, 0]))


def test_eval_mode_during_the_probe_and_restored_after() -> None:
    modes = []

    class Spy(Mixer):
        def forward(self, x, state=None):
            modes.append(self.training)
            return super().forward(x, state)

    m = Spy().train()
    probes.future_leak(m, x(), [2, 3])
    assert modes == [False, False, False] and m.training


@pytest.mark.parametrize(("t", "upto"), [(0, "<"), (12, "<"), (11, "<="), (-1, "<="), ([], "<"), (3, "<<")])
def test_positions_that_read_nothing_or_edit_outside_are_refused(t, upto) -> None:
    with pytest.raises(ValueError, match="t must be|upto must"):
        probes.future_leak(Mixer(), x(), t, upto=upto)
