import pytest
import torch

from memnb.layers.prefix_memory import PrefixMemory

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def layer():
    torch.manual_seed(0)
    return PrefixMemory(32, 4, segment_len=8, n_slots=3).double()


def test_first_segment_is_plain_causal_attention(layer):
    """Before any segment ends there is no prefix: the output does not depend on the memory
    parameters at all."""
    x = torch.randn(1, 8, 32, dtype=torch.float64)
    y0 = layer(x)[0]
    with torch.no_grad():
        layer.lift.weight.add_(1.0)
        layer.fiber.weight.add_(1.0)
    assert torch.equal(layer(x)[0], y0)


def test_past_reaches_later_segments_only_through_the_segment_mean(layer):
    """Permuting the tokens of a finished segment keeps its mean, hence the fiber and every later
    output's prefix; segment 2's outputs change only through the prefix, so they are unchanged."""
    x = torch.randn(1, 16, 32, dtype=torch.float64)
    perm = x.clone()
    perm[:, :8] = x[:, torch.randperm(8)]
    y, y_perm = layer(x)[0], layer(perm)[0]
    assert torch.allclose(y[:, 8:], y_perm[:, 8:], atol=1e-12)
    edited = x.clone()
    edited[:, 0] += 1.0  # a different mean: later outputs must move
    assert (layer(edited)[0][:, 8:] - y[:, 8:]).abs().max() > 1e-6


def test_state_holds_one_fiber_per_finished_segment(layer):
    _, state = layer(torch.randn(2, 27, 32, dtype=torch.float64))
    assert state.fibers.shape == (2, 3, 16) and state.k.size(2) == 3


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_slots"):
        PrefixMemory(32, 4, n_slots=0)
