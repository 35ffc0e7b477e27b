"""Every memory in the registry: segment-wise equals one pass, no future leak, usable as a mixer;
the zoo chapter's set is the nine it was written for."""

import pytest
import torch

from memnb.eval import probes
from memnb.layers import registry as zoo
from memnb.models.decoder import Decoder, DecoderConfig


@pytest.mark.parametrize("name", list(zoo.MEMORIES))
def test_segments_equal_one_pass_and_no_future_leak(name):
    torch.manual_seed(0)
    x = torch.randn(2, 48, 32, dtype=torch.float64)
    layer = zoo.build(name, 32, 4, segment_len=16).double().eval()
    assert probes.segment_error(layer, x, 16) < 1e-10
    assert probes.segment_error(layer, x, 7) < 1e-10  # segments that cut across the layer's own
    assert probes.future_leak(layer, x, 30) == 0.0


@pytest.mark.parametrize("name", list(zoo.MEMORIES))
def test_every_memory_works_as_a_decoder_mixer_with_gradients(name):
    torch.manual_seed(0)
    model = Decoder(DecoderConfig(vocab_size=11, d_model=32, n_layers=2, n_heads=4), zoo.mixer(name, segment_len=8))
    idx = torch.randint(0, 11, (2, 20))
    logits, state = model(idx)
    assert logits.shape == (2, 20, 11) and len(state) == 2
    logits.logsumexp(-1).mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads[:3])


def test_unknown_memory_names_the_registry():
    with pytest.raises(ValueError, match="the registry has: attention, sliding_window"):
        zoo.mixer("lstm")
    with pytest.raises(ValueError, match="retrieval_context"):
        zoo.build("lstm", 8, 2)


def test_zoo_chapter_checks_the_registry_less_the_two_leaderboard_layers():
    assert list(zoo.ZOO) == [n for n in zoo.MEMORIES if n not in ("prefix_memory", "retrieval_context")]
    assert len(zoo.ZOO) == 9 and all(e.in_zoo_chapter for e in zoo.ZOO.values())


def test_state_bytes_counts_nested_tensors():
    state = {"a": torch.zeros(2, 3), "b": [torch.zeros(4, dtype=torch.float64)], "n": 5}
    assert zoo.state_bytes(state) == 2 * 3 * 4 + 4 * 8
