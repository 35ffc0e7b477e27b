"""The one MLP and the one Block (memnb.models.block): known answers for each activation, the
block's residual equation, its extra branches, their states and their parameter order."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.models.block import ACTIVATIONS, MLP, Block, PreNorm
from memnb.models.init import gpt2_init

PHI_1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # GELU(1) = Φ(1)
SIGMOID = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731


def _scalar_mlp(activation: str, bias: bool = True) -> MLP:
    """d_model = hidden = 1: W_1 = 1, W_3 = 3, W_2 = 2, b_1 = 0, b_2 = 0.5."""
    mlp = MLP(1, 1, activation, bias=bias).double()
    with torch.no_grad():
        mlp.fc.weight.fill_(1.0)
        mlp.proj.weight.fill_(2.0)
        if bias:
            mlp.fc.bias.zero_()
            mlp.proj.bias.fill_(0.5)
        if mlp.up is not None:
            mlp.up.weight.fill_(3.0)
    return mlp


@pytest.mark.parametrize(
    "activation,x,want",
    [
        ("gelu", 1.0, 2 * PHI_1 + 0.5),
        ("gelu", -1.0, 2 * (-(1 - PHI_1)) + 0.5),  # GELU(-1) = -Φ(-1)
        ("relu", 1.5, 2 * 1.5 + 0.5),
        ("relu", -1.5, 0.5),
    ],
)
def test_mlp_known_answers(activation, x, want):
    y = _scalar_mlp(activation)(torch.tensor([[x]], dtype=torch.float64))
    assert y.item() == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("x", [1.0, 2.0, -0.5])
def test_swiglu_known_answer(x):
    """W_2 (SiLU(W_1 x) ⊙ W_3 x) = 2 · x σ(x) · 3x, no biases (ReLSM)."""
    y = _scalar_mlp("swiglu", bias=False)(torch.tensor([[x]], dtype=torch.float64))
    assert y.item() == pytest.approx(2 * x * SIGMOID(x) * 3 * x, abs=1e-12)


def test_mlp_parameter_counts_and_width():
    d, h = 8, 13
    assert sum(p.numel() for p in MLP(d, h).parameters()) == 2 * d * h + h + d
    assert sum(p.numel() for p in MLP(d, h, "swiglu", bias=False).parameters()) == 3 * d * h
    assert [n for n, _ in MLP(d, h, "swiglu", bias=False).named_parameters()] == [
        "fc.weight",
        "up.weight",
        "proj.weight",
    ]
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(d, h, "tanh")
    assert set(ACTIVATIONS) == {"gelu", "relu", "swiglu"}


class Scale(nn.Module):
    """A stub memnb layer: y = c · u (+ a per-call ``shift``), state counts the calls."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = nn.Parameter(torch.tensor(c, dtype=torch.float64))

    def forward(self, u, state=None, shift: float = 0.0):
        return self.c * u + shift, (state or 0) + 1


def _ln(x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, x.shape[-1:])


def test_plain_block_is_the_pre_ln_residual_equation_and_carries_the_mixer_state():
    torch.manual_seed(0)
    mlp = MLP(4, 6).double()
    block = Block(4, Scale(0.5), mlp).double()
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    y, s = block(x)
    h = x + 0.5 * _ln(x)
    assert torch.allclose(y, h + mlp(_ln(h)), atol=1e-12)
    assert s == 1 and block(x, s)[1] == 2  # the state is the mixer's own
    y2, _ = block(x, mixer={"shift": 1.0})  # per-call options reach the mixer
    assert torch.allclose(y2, (h + 1.0) + mlp(_ln(h + 1.0)), atol=1e-12)


def test_branches_run_in_order_with_their_own_states():
    torch.manual_seed(0)
    mlp = MLP(4, 6).double()
    block = Block(
        4,
        Scale(0.5),
        mlp,
        pre_mlp={"a": PreNorm(4, Scale(2.0)), "off": None},
        post_mlp={"b": Scale(-0.25)},
    ).double()
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    y, s = block(x)
    h = x + 0.5 * _ln(x)
    h = h + 2.0 * _ln(h)  # PreNorm: the branch reads LN(x)
    h = h + mlp(_ln(h))
    assert torch.allclose(y, h - 0.25 * h, atol=1e-12)  # post-MLP branch reads the raw stream
    assert s == {"mixer": 1, "a": 1, "b": 1} and block.off is None
    assert block(x, s)[1] == {"mixer": 2, "a": 2, "b": 2}


def test_a_reads_branch_runs_only_with_a_memory_and_returns_it_unchanged():
    class Read(nn.Module):
        def forward(self, x, mem, mask=None):
            y = x * 0 + mem.mean()
            return y if mask is None else y * mask

    mlp = MLP(4, 6).double()
    block = Block(4, None, mlp, pre_mlp={"xattn": Read()}, reads=("xattn",)).double()
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    y0, s0 = block(x)
    assert torch.allclose(y0, x + mlp(_ln(x))) and s0 == {}  # no memory: the branch is skipped
    mem = torch.full((1, 5, 4), 3.0, dtype=torch.float64)
    y1, s1 = block(x, {"xattn": mem})
    assert s1["xattn"] is mem and torch.allclose(y1, (x + 3.0) + mlp(_ln(x + 3.0)))
    y2, _ = block(x, {"xattn": mem}, xattn={"mask": 0.0})
    assert torch.allclose(y2, y0)


def test_parameter_order_is_registration_order():
    block = Block(4, Scale(1.0), MLP(4, 6), pre_mlp={"a": PreNorm(4, Scale(1.0))}, post_mlp={"b": Scale(1.0)})
    assert [n for n, _ in block.named_parameters()] == [
        "ln1.weight",
        "ln1.bias",
        "mixer.c",
        "a.layer.c",
        "a.norm.weight",  # PreNorm's LayerNorm follows its layer
        "a.norm.bias",
        "ln2.weight",
        "ln2.bias",
        "mlp.fc.weight",
        "mlp.fc.bias",
        "mlp.proj.weight",
        "mlp.proj.bias",
        "b.c",
    ]
    assert Block(4, None, MLP(4, 6)).ln1 is None


def test_bad_branch_names():
    with pytest.raises(ValueError, match="distinct"):
        Block(4, None, MLP(4, 6), pre_mlp={"mlp": Scale(1.0)})
    with pytest.raises(ValueError, match="distinct"):
        Block(4, None, MLP(4, 6), pre_mlp={"a": Scale(1.0)}, post_mlp={"a": Scale(1.0)})
    with pytest.raises(ValueError, match="distinct"):
        Block(4, None, MLP(4, 6), pre_mlp={"forward": Scale(1.0)})
    with pytest.raises(ValueError, match="reads names no extra branch"):
        Block(4, None, MLP(4, 6), reads=("xattn",))


def test_gpt2_init_scales_only_the_residual_projections():
    torch.manual_seed(0)
    mlp = MLP(64, 256)
    gpt2_init(mlp, n_layers=8, residual=("proj.weight",))
    assert mlp.fc.bias.abs().max() == 0 and mlp.proj.bias.abs().max() == 0
    assert mlp.fc.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert mlp.proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
