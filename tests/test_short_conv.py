"""The short causal convolution in front of the mixer (``DecoderConfig.short_conv``,
``memnb.models.block.ShortConv``): the token-shift known answer, exact causality, segment
recurrence in the layer and in a whole decoder, and "off" building exactly what was built before."""

import pytest
import torch

from memnb.layers import registry
from memnb.layers.state import detach_state, state_tensors
from memnb.models.block import MLP, Block, ShortConv
from memnb.models.decoder import Decoder, DecoderConfig, attention_decoder

SPLITS = (0, 1, 2, 7, 16, 23, 30)  # ragged: segments shorter than the kernel, one token, ...


def test_kernel_two_is_the_hand_computed_token_shift():
    conv = ShortConv(2, 2).double()
    with torch.no_grad():
        conv.conv.weight.copy_(torch.tensor([[[0.5, 2.0]], [[-1.0, 0.0]]], dtype=torch.float64))  # [d, 1, k]
    x = torch.tensor([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]], dtype=torch.float64)  # [1, T=3, d=2]
    y, tail = conv(x)
    # channel 0: 0.5 x_{t-1} + 2 x_t;  channel 1: -x_{t-1} (a pure shift); x_{-1} = 0
    want = torch.tensor([[[2.0, 0.0], [0.5 + 4.0, -10.0], [1.0 + 6.0, -20.0]]], dtype=torch.float64)
    assert torch.equal(y, want)
    assert torch.equal(tail, x[:, 2:])
    y2, _ = conv(torch.tensor([[[4.0, 40.0]]], dtype=torch.float64), tail)  # carried: x_{-1} is now 3, 30
    assert torch.equal(y2, torch.tensor([[[1.5 + 8.0, -30.0]]], dtype=torch.float64))


@pytest.mark.parametrize("kernel", [1, 2, 4])
def test_conv_is_causal_exactly(kernel):
    torch.manual_seed(0)
    conv = ShortConv(6, kernel)
    x = torch.randn(2, 20, 6)
    x_edit = x.clone()
    x_edit[:, 11:] = torch.randn(2, 9, 6) * 3
    with torch.no_grad():
        y, y_edit = conv(x)[0], conv(x_edit)[0]
    assert torch.equal(y[:, :11], y_edit[:, :11])
    assert not torch.equal(y[:, 11:], y_edit[:, 11:])


@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
def test_conv_segmentwise_equals_one_pass(kernel):
    torch.manual_seed(1)
    conv = ShortConv(5, kernel).double()
    x = torch.randn(3, SPLITS[-1], 5, dtype=torch.float64)
    with torch.no_grad():
        y, tail = conv(x)
        state, pieces = None, []
        for a, b in zip(SPLITS[:-1], SPLITS[1:], strict=True):
            y_ab, state = conv(x[:, a:b], state)
            pieces.append(y_ab)
    assert (torch.cat(pieces, 1) - y).abs().max() < 1e-12
    assert tail.shape == (3, kernel - 1, 5) and torch.equal(tail, state)


def _decoder(kernel: int, memory: str = "attention") -> Decoder:
    torch.manual_seed(0)
    cfg = DecoderConfig(vocab_size=13, d_model=16, n_layers=2, n_heads=4, short_conv=kernel)
    return Decoder(cfg, registry.mixer(memory, segment_len=8)).double()


@pytest.mark.parametrize("memory", ["attention", "mamba2", "sliding_window"])
def test_decoder_with_conv_is_causal_and_segment_recurrent(memory):
    model = _decoder(2, memory)
    idx = torch.randint(0, 13, (2, SPLITS[-1]))
    with torch.no_grad():
        logits, state = model(idx)
        carried, pieces = None, []
        for a, b in zip(SPLITS[:-1], SPLITS[1:], strict=True):
            out, carried = model(idx[:, a:b], carried)
            pieces.append(out)
        edit = idx.clone()
        edit[:, 15:] = (edit[:, 15:] + 1) % 13
        logits_edit, _ = model(edit)
    assert (torch.cat(pieces, 1) - logits).abs().max() < 1e-10
    assert torch.equal(logits[:, :15], logits_edit[:, :15]) and not torch.equal(logits[:, 15:], logits_edit[:, 15:])
    assert all(set(s) == {"mixer", "conv"} and s["conv"].shape == (2, 1, 16) for s in state)
    assert all(t.grad_fn is None for t in state_tensors(detach_state(state)))


def test_decoder_conv_gets_gradients():
    model = _decoder(3).float()
    logits, _ = model(torch.randint(0, 13, (2, 12)))
    logits.logsumexp(-1).mean().backward()
    for block in model.blocks:
        g = block.conv.conv.weight.grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


# Measured with the decoder before the option existed (commit 6f37b06): torch.manual_seed(0),
# attention_decoder(cfg).double(), then one torch.randn(1); logits of arange(9) % 13.
BEFORE = {"next_draw": 1.4261401891708374, "param_sum": 78.14960383443258, "logit_sum": 2.821762917664335}


def test_off_builds_the_same_model_as_before():
    """short_conv = 0 constructs nothing: the same parameters and values (the same RNG draws, and
    the same stream after) and outputs as the decoder had before the option; the state stays one
    mixer state per layer."""
    cfg = DecoderConfig(vocab_size=13, d_model=16, n_layers=2, n_heads=4)
    assert cfg.short_conv == 0
    torch.manual_seed(0)
    model = attention_decoder(cfg).double()
    assert torch.randn(1).item() == BEFORE["next_draw"]
    assert model.num_params() == 6672 and not any("conv" in n for n, _ in model.named_parameters())
    assert sum(p.sum().item() for p in model.parameters()) == pytest.approx(BEFORE["param_sum"], rel=1e-12)
    assert all(b.conv is None and b.plain for b in model.blocks)
    with torch.no_grad():
        logits, state = model(torch.arange(9).view(1, 9) % 13)
    assert logits.sum().item() == pytest.approx(BEFORE["logit_sum"], rel=1e-9)
    assert all(not isinstance(s, dict) for s in state)
    with_conv = _decoder(2).float()
    n_conv = sum(p.numel() for n, p in with_conv.named_parameters() if ".conv." in n)
    assert with_conv.num_params() - model.num_params() == n_conv == 2 * 16 * 2


def test_bad_settings():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="short_conv must be an int >= 0"):
            DecoderConfig(vocab_size=5, short_conv=bad)
    with pytest.raises(ValueError, match="kernel must be >= 1"):
        ShortConv(4, 0)
    with pytest.raises(ValueError, match="conv runs in front of the mixer"):
        Block(4, None, MLP(4, 8), conv=ShortConv(4, 2))
    with pytest.raises(ValueError, match="name no other Block attribute"):
        Block(4, None, MLP(4, 8), pre_mlp={"conv": None})
