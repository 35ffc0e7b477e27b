"""A seed ensemble trains each member exactly as ``memnb.train.train`` trains it alone."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F

from memnb.layers import registry
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.train import TrainConfig, random_windows, train
from memnb.train.ensemble import train_ensemble

F64 = torch.float64
CFG = DecoderConfig(vocab_size=32, d_model=16, n_layers=2, n_heads=2)


def members(S: int, mixer: str = "attention", dtype: torch.dtype = F64) -> list[Decoder]:
    out = []
    for s in range(S):
        torch.manual_seed(100 + s)
        out.append(Decoder(CFG, registry.mixer(mixer, segment_len=8)).to(dtype))
    return out


def streams(S: int, seq_len: int = 24, batch: int = 3) -> list:
    tokens = torch.randint(0, CFG.vocab_size, (2000,), generator=torch.Generator().manual_seed(0))
    return [random_windows(tokens, seq_len, batch, seed=7 + s) for s in range(S)]


def max_rel_diff(a: torch.nn.Module, b: torch.nn.Module) -> float:
    return max(
        ((p - q).abs().max() / q.abs().max()).item() for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def test_three_members_for_20_steps_equal_three_solo_runs_float64() -> None:
    S, gets = 3, streams(3)
    # members differ in init and data; clipping bites (grad_clip 0.05) and lr warms up then decays
    cfg = TrainConfig(steps=20, lr=1e-2, warmup=5, grad_clip=0.05)
    solo = members(S)
    ens = copy.deepcopy(solo)
    solo_hist = [train(m, g, cfg, desc=f"solo {s}") for s, (m, g) in enumerate(zip(solo, gets, strict=True))]
    ens_hist = train_ensemble(ens, gets, cfg)
    for s in range(S):
        assert max_rel_diff(ens[s], solo[s]) <= 1e-9
        losses = [(a["train_loss"], b["train_loss"]) for a, b in zip(ens_hist[s], solo_hist[s], strict=True)]
        assert max(abs(a - b) for a, b in losses) <= 1e-9
        assert [h["lr"] for h in ens_hist[s]] == [h["lr"] for h in solo_hist[s]]
    assert max_rel_diff(solo[0], members(1)[0]) > 1e-3  # training moved the weights


def test_per_member_configs_follow_their_own_schedules() -> None:
    S, gets = 2, streams(2)
    cfgs = [
        TrainConfig(steps=6, lr=3e-3, warmup=2, weight_decay=0.1, betas=(0.9, 0.95), grad_clip=1.0),
        TrainConfig(steps=6, lr=1e-2, warmup=0, weight_decay=0.0, betas=(0.8, 0.99), grad_clip=0.01),
    ]
    solo = members(S)
    ens = copy.deepcopy(solo)
    for m, g, c in zip(solo, gets, cfgs, strict=True):
        train(m, g, c)
    hist = train_ensemble(ens, gets, cfgs, evaluate=lambda m: {"norm": m.embed.weight.norm().item()})
    for s in range(S):
        assert max_rel_diff(ens[s], solo[s]) <= 1e-9
        assert hist[s][-1]["norm"] == pytest.approx(solo[s].embed.weight.norm().item(), rel=1e-12)


@pytest.mark.parametrize("mixer", list(registry.ZOO))
def test_every_zoo_memory_trains_in_an_ensemble(mixer: str) -> None:
    """Two steps, two members: same as solo runs; no op falls back to a per-member loop."""
    S, gets = 2, streams(2, seq_len=16, batch=2)
    cfg = TrainConfig(steps=2, lr=1e-2, warmup=1)
    solo = members(S, mixer)
    ens = copy.deepcopy(solo)
    for m, g in zip(solo, gets, strict=True):
        train(m, g, cfg)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*batching rule.*")
        train_ensemble(ens, gets, cfg)
    for s in range(S):
        assert max_rel_diff(ens[s], solo[s]) <= 1e-9


@pytest.mark.parametrize("is_causal", [True, False])
def test_sdpa_batching_rule_matches_per_member_calls(is_causal: bool) -> None:
    from memnb.train.ensemble import _register_sdpa_vmap_rule

    _register_sdpa_vmap_rule()
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 4, 7, 8, requires_grad=True) for _ in range(3))
    masks = torch.rand(3, 7, 7) < 0.7
    masks[..., 0] = True  # every query sees a key

    def attend(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, attn_mask=None if is_causal else m)

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*batching rule.*")
        y = torch.vmap(attend)(q, k, v, masks)
    y_ref = torch.stack([attend(q[s], k[s], v[s], masks[s]) for s in range(3)])
    assert torch.allclose(y, y_ref, atol=1e-6)
    w = torch.randn_like(y)
    g = torch.autograd.grad((y * w).sum(), (q, k, v))
    g_ref = torch.autograd.grad((y_ref * w).sum(), (q, k, v))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g, g_ref, strict=True))


def test_bad_ensembles_raise() -> None:
    cfg = TrainConfig(steps=1)
    with pytest.raises(ValueError, match="one batch stream"):
        train_ensemble(members(2), streams(1), cfg)
    with pytest.raises(ValueError, match="not shaped like"):
        small = Decoder(DecoderConfig(vocab_size=32, d_model=8, n_layers=2, n_heads=2), registry.mixer("attention"))
        train_ensemble([members(1)[0], small.double()], streams(2), cfg)
    with pytest.raises(NotImplementedError, match="segment_len"):
        train_ensemble(members(2), streams(2), TrainConfig(steps=1, segment_len=8))
    with pytest.raises(ValueError, match="dropout"):
        drop = DecoderConfig(vocab_size=32, d_model=16, n_layers=1, n_heads=2, dropout=0.1)
        train_ensemble([Decoder(drop, registry.mixer("attention")) for _ in range(2)], streams(2), cfg)
