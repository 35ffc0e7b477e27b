"""Gated DeltaNet layer (memnb.layers.gated_delta_rule): known answers for its projections and its
memory, and the layer equal to the op composed by hand. The shared contract (segment recurrence,
causality, gradients, detachable state) is in test_layer_contract.py (``VARIANTS``)."""

import math

import pytest
import torch
import torch.nn.functional as F

from memnb.layers import GatedDeltaNet
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.ops.gated_delta_rule.naive import naive_gated_delta_rule

F64 = torch.float64


def _hand_built() -> GatedDeltaNet:
    """d = 2, one head, K = V = 2: W_q = W_k = W_v = W_o = I, W_β = 0 and b_β = 0 (β = ½),
    W_a = 0, A_log = 0, b_Δ = 0 (g = −softplus(0) = −ln 2: the memory halves every token)."""
    layer = GatedDeltaNet(2, 1, gate=False).double()
    with torch.no_grad():
        for lin in (layer.q_proj, layer.k_proj, layer.v_proj, layer.out_proj):
            lin.weight.copy_(torch.eye(2, dtype=F64))
        for p in (layer.b_proj.weight, layer.b_proj.bias, layer.a_proj.weight, layer.A_log, layer.dt_bias):
            p.zero_()
    return layer


def test_projections_known_answer():
    layer = _hand_built()
    a, b = 3.0, -1.5
    x = torch.tensor([[[a, 0.0], [0.0, b]]], dtype=F64)
    q, k, v, g, beta = layer.inputs(x)
    silu = lambda t: t / (1 + math.exp(-t))  # noqa: E731
    assert torch.allclose(k[0, :, 0], torch.tensor([[1.0, 0.0], [0.0, -1.0 if silu(b) < 0 else 1.0]], dtype=F64))
    assert torch.equal(q, k)
    assert torch.allclose(v[0, :, 0], torch.tensor([[silu(a), 0.0], [0.0, silu(b)]], dtype=F64))
    assert torch.allclose(beta, torch.full((1, 2, 1), 0.5, dtype=F64))
    assert torch.allclose(g, torch.full((1, 2, 1), -math.log(2), dtype=F64))


def test_memory_known_answer_with_overwrite():
    """x = (a, 0), (0, b), (c, 0): keys e_1, e_2, e_1; values s_a e_1, s_b e_2, s_c e_1 (s = SiLU).
    S_1 = ½ e_1 (s_a e_1)ᵀ; S_2 = ½ S_1 + ½ e_2 (s_b e_2)ᵀ; token 3 rewrites key e_1 by the delta
    rule from the decayed memory ¼ s_a: S_3[1,1] = ⅛ s_a + ½ (s_c − ⅛ s_a) = s_a/16 + s_c/2."""
    layer = _hand_built()
    a, b, c = 3.0, 2.0, 5.0
    x = torch.tensor([[[a, 0.0], [0.0, b], [c, 0.0]]], dtype=F64)
    s = [t * torch.sigmoid(torch.tensor(t, dtype=F64)).item() for t in (a, b, c)]
    want = torch.tensor([[s[0] / 16 + s[2] / 2, 0.0], [0.0, s[1] / 4]], dtype=F64)
    for impl in ("naive", "chunked"):
        layer.impl = impl
        _, S = layer(x)
        assert S.shape == (1, 1, 2, 2) and torch.allclose(S[0, 0], want, atol=1e-14)
    # one token at a time, the state carried, reaches the same memory
    S = None
    for t in range(3):
        _, S = layer(x[:, t : t + 1], S)
    assert torch.allclose(S[0, 0], want, atol=1e-14)


@pytest.mark.parametrize("gate, expand_v", [(True, 1), (False, 2)])
def test_layer_is_the_op_composed_by_hand(gate, expand_v):
    torch.manual_seed(0)
    d, H, T = 12, 3, 37
    layer = GatedDeltaNet(d, H, expand_v=expand_v, gate=gate).double()
    x = torch.randn(2, T, d, dtype=F64)
    h0 = torch.randn(2, H, 4, 4 * expand_v, dtype=F64)
    y, S = layer(x, h0)
    K, V = d // H, d // H * expand_v
    q = F.normalize(F.silu(x @ layer.q_proj.weight.T).view(2, T, H, K), dim=-1)
    k = F.normalize(F.silu(x @ layer.k_proj.weight.T).view(2, T, H, K), dim=-1)
    v = F.silu(x @ layer.v_proj.weight.T).view(2, T, H, V)
    beta = torch.sigmoid(x @ layer.b_proj.weight.T + layer.b_proj.bias)
    g = -layer.A_log.exp() * F.softplus(x @ layer.a_proj.weight.T + layer.dt_bias)
    o, S_ref = naive_gated_delta_rule(q, k, v, g, beta, scale=K**-0.5, initial_state=h0, output_final_state=True)
    o = o * torch.rsqrt(o.pow(2).mean(-1, keepdim=True) + 1e-5) * layer.o_norm.weight
    if gate:
        o = o * F.silu(x @ layer.g_proj.weight.T).view(2, T, H, V)
    y_ref = o.reshape(2, T, H * V) @ layer.out_proj.weight.T
    assert (y - y_ref).abs().max() < 1e-10 and (S - S_ref).abs().max() < 1e-10
    assert layer.state_size() == H * K * V == S[0].numel()


def test_decoder_mixer_with_short_conv_trains(one_thread):
    """A two-layer decoder of Gated DeltaNet mixers (short conv on) fits one batch: the loss falls."""
    torch.manual_seed(0)
    cfg = DecoderConfig(vocab_size=16, d_model=32, n_layers=2, n_heads=4, short_conv=2)
    model = Decoder(cfg, lambda c, i: GatedDeltaNet(c.d_model, c.n_heads))
    idx = torch.randint(0, 16, (4, 24))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        logits, state = model(idx[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 16), idx[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert all(s["mixer"].shape == (4, 4, 8, 8) and s["conv"].shape == (4, 1, 32) for s in state)


def test_bad_arguments():
    with pytest.raises(ValueError, match="must be >= 1"):
        GatedDeltaNet(8, 2, expand_v=0)
    with pytest.raises(ValueError, match="impl must be one of"):
        GatedDeltaNet(8, 2, impl="cuda")
