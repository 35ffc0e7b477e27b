"""PEER: the product-key fast path against the layer scored over all n² experts, on tiny sizes."""

from __future__ import annotations

import pytest
import torch

from memnb.hrs.model import EngramConfig, EngramLM
from memnb.layers.peer import PEER, peer_for


def layer(seed: int, **kw) -> PEER:
    torch.manual_seed(seed)
    peer = PEER(d_model=12, n_sub=6, n_heads=3, top_k=3, **kw).double()
    for p in (peer.keys_a, peer.keys_b, peer.down.weight, peer.up.weight):
        torch.nn.init.normal_(p)  # spread the scores so ties are improbable
    return peer


@pytest.mark.parametrize("seed", range(5))
def test_product_keys_pick_the_dense_top_k(seed: int) -> None:
    peer = layer(seed)
    x = torch.randn(2, 7, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(100 + seed))
    h, ids, scores = peer.route(x)
    s_a, s_b = peer._sub_scores(h)
    every = (s_a.unsqueeze(-1) + s_b.unsqueeze(-2)).flatten(-2)
    dense_scores, dense_ids = every.topk(peer.top_k, dim=-1)
    assert torch.equal(ids.sort(-1).values, dense_ids.sort(-1).values)
    assert torch.allclose(scores, dense_scores, rtol=0, atol=1e-12)
    assert torch.equal(every.gather(-1, ids), scores)  # ids index the grid as i·n + j


@pytest.mark.parametrize("seed", range(3))
def test_forward_and_gradients_match_dense_reference(seed: int) -> None:
    peer = layer(seed)
    x = torch.randn(3, 5, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    y, y_ref = peer(x), peer.dense_reference(x)
    assert ((y - y_ref).norm() / y_ref.norm()).item() < 1e-12
    w = torch.randn_like(y)
    grads = torch.autograd.grad((y * w).sum(), [x, *peer.parameters()])
    grads_ref = torch.autograd.grad((y_ref * w).sum(), [x, *peer.parameters()])
    for g, g_ref in zip(grads, grads_ref, strict=True):
        assert torch.allclose(g, g_ref, rtol=1e-10, atol=1e-12)


def test_single_expert_by_hand() -> None:
    """One head, top-1: y = γ LN(W_out σ(u_e·h) v_e) with e the best (i, j) pair."""
    peer = PEER(d_model=4, n_sub=3, n_heads=1, top_k=1, out_gate=0.5).double()
    x = torch.tensor([0.3, -1.2, 0.7, 2.0], dtype=torch.float64)
    h = peer.w_in.weight @ x
    s = peer.keys_a[0] @ h, peer.keys_b[0] @ h
    e = int(s[0].argmax()) * 3 + int(s[1].argmax())
    y = torch.sigmoid(peer.down.weight[e] @ h) * peer.up.weight[e]
    expected = 0.5 * torch.nn.functional.layer_norm(peer.w_out.weight @ y, (4,))
    assert torch.allclose(peer(x), expected, rtol=0, atol=1e-12)


def test_peer_for_sizes_the_expert_table() -> None:
    peer = peer_for(64, 4)
    assert peer.n_experts >= 4 * 4 * 64 and peer.n_sub == 32


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="divisible"):
        PEER(10, n_heads=3)
    with pytest.raises(ValueError, match="top_k"):
        PEER(8, n_sub=4, top_k=5)
    with pytest.raises(ValueError, match="ffn"):
        EngramConfig(vocab_size=20, ffn="moe")


def test_engram_lm_with_peer_is_causal_and_learns() -> None:
    torch.manual_seed(0)
    model = EngramLM(EngramConfig(vocab_size=16, d_model=32, n_layers=2, n_heads=2, ffn="peer"))
    idx = torch.randint(0, 16, (2, 24))
    edited = idx.clone()
    edited[:, 15] = (idx[:, 15] + 1) % 16
    model.eval()
    with torch.no_grad():
        a, b = model(idx)[0], model(edited)[0]
    assert (a[:, :15] - b[:, :15]).abs().max().item() == 0.0
    assert (a[:, 15:] - b[:, 15:]).abs().max().item() > 0.0
    model.train()
    seq = torch.arange(16).repeat(2, 2)  # a sequence the model can learn to continue
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        logits = model(seq[:, :-1])[0]
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), seq[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
