"""Value checks for the seed's exp_47 probe model (memnb.drex.seed_model) and its harness."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from memnb.drex import sweep, theory
from memnb.drex.experiment import ProbeResult, linear_probe, train_probe
from memnb.drex.probe import ProbeConfig
from memnb.drex.seed_model import SeedRecallModel
from memnb.drex.task import make_recall


@pytest.mark.parametrize(
    "memory,layout,gate,combine",
    [("single", "seed", "or", "concat"), ("split", "seed", "or", "concat"), ("single", "kv", "or", "concat"),
     ("split", "kv", "and", "concat"), ("single", "seed", "none", "concat"), ("split", "kv", "or", "gate")],
)  # fmt: skip
def test_chunked_writes_equal_backprop_through_the_loop(memory, layout, gate, combine):
    """Firing pattern + chunked delta rule == autograd through drex_memory's token loop."""
    cfg = ProbeConfig(
        arch="exp47", memory=memory, layout=layout, gate=gate, thresh=0.4, alpha=0.9, d=16, combine=combine
    )
    tokens = make_recall(8, 24, rng=np.random.default_rng(0), layout=layout).tokens
    out = []
    for impl in ("loop", "chunked"):
        torch.manual_seed(0)
        m = SeedRecallModel(cfg, impl=impl).double()
        logits, fire = m(tokens)
        (logits**2).sum().backward()
        out.append((logits.detach(), fire, [p.grad.clone() for p in m.parameters() if p.grad is not None]))
    (l0, f0, g0), (l1, f1, g1) = out
    assert torch.equal(f0, f1)
    assert (l0 - l1).abs().max() < 1e-10
    assert len(g0) == len(g1) and all((a - b).abs().max() < 1e-9 for a, b in zip(g0, g1, strict=True))


@pytest.mark.parametrize("memory,thresh,gate", [("single", 0.4, "single"), ("split", 0.7, "or")])
def test_write_rate_of_seed_model_is_the_closed_form(memory, thresh, gate):
    L = 32
    a = theory.alpha("adaptive", L)
    res = train_probe(ProbeConfig(arch="exp47", memory=memory, thresh=thresh, alpha=a), length=L, steps=2,
                      seed=0, n_eval=64)  # fmt: skip
    want = theory.seed_write_rate(L, a, thresh, gate=gate)
    assert abs(res.wr_init - want) < 1e-6 and abs(res.wr_train - want) < 1e-6


def test_combination_gate_scales_the_two_reads_and_shares_the_initialisation():
    """r = [c r_s ; (1 − c) r_e], c = σ(w·h_{L−1} + b); every other weight starts as in the
    concatenated arm of the same seed (the gate's weights are drawn last)."""
    base = ProbeConfig(arch="exp47", memory="split", layout="kv", d=16, alpha=0.9)
    torch.manual_seed(0)
    concat = SeedRecallModel(base)
    torch.manual_seed(0)
    gated = SeedRecallModel(replace(base, combine="gate"))
    shared = dict(concat.named_parameters())
    for name, p in gated.named_parameters():
        if not name.startswith("mix."):
            assert torch.equal(p, shared[name]), name
    tokens = make_recall(4, 20, rng=np.random.default_rng(0), layout="kv").tokens
    with torch.no_grad():  # c = 1/2 everywhere: half of each read, the same logits as the halved concat read
        gated.mix.weight.zero_(), gated.mix.bias.zero_()
        concat.rp.weight.mul_(0.5)
        assert torch.allclose(gated(tokens)[0], concat(tokens)[0], atol=1e-6)


def test_memory_removed_is_a_constant_guess():
    res = train_probe(ProbeConfig(arch="exp47", memory="none"), length=20, steps=3, seed=0, n_eval=256)
    assert res.wr == 0.0 and res.acc < 0.1  # one fixed token: ~1/32 of targets


def test_identical_arms_run_once(monkeypatch):
    calls = []

    def fake(cfg, *, length, seed, **kw):
        calls.append((cfg, length, seed))
        return ProbeResult(cfg.alpha, 0.0, 0.0, 0.0, 0.0, 0.0)

    monkeypatch.setattr(sweep, "train_probe", fake)
    arms = [
        ({"schedule": s}, ProbeConfig(alpha=theory.alpha(s, L)), L) for s in ("fixed", "adaptive") for L in (32, 96)
    ]
    df = sweep.run_grid(arms, [0, 1], mode="train")
    assert len(df) == 8 and len(calls) == 6  # fixed = adaptive = 0.95 at L = 96
    assert (df[df.L == 96].acc == 0.95).all()


def test_bad_configs():
    with pytest.raises(ValueError, match="arch must be"):
        ProbeConfig(arch="transformer")
    with pytest.raises(ValueError, match="no null gate"):
        SeedRecallModel(ProbeConfig(arch="exp47", null_gate=True))
    with pytest.raises(ValueError, match="use arch='probe'"):
        linear_probe(ProbeConfig(arch="exp47"), length=20, seed=0)
    with pytest.raises(ValueError, match="impl must be"):
        SeedRecallModel(ProbeConfig(arch="exp47"), impl="triton")


def test_run_grid_same_numbers_with_two_workers():
    arms = [({"schedule": s}, ProbeConfig(arch="exp47", layout="kv", memory="single", d=16, alpha=theory.alpha(s, 24)),
             24) for s in ("fixed", "adaptive")]  # fmt: skip
    kw = {"mode": "train", "steps": 3, "n_eval": 32}
    one = sweep.run_grid(arms, [0, 1], **kw)
    two = sweep.run_grid(arms, [0, 1], workers=2, **kw)
    pd.testing.assert_frame_equal(one, two)


def test_lm_grid_rows_and_halfway_evaluation(monkeypatch):
    """One row per (arm, seed); identical configs run once; the loss halfway and at the end."""
    calls = []

    def fake(cfg, seed, kw):
        calls.append((cfg, seed))
        return {"val_loss": 1.0 + seed, "val_loss_half": 2.0 + seed, "train_s": 0.0}

    monkeypatch.setattr(sweep, "_fit_lm", fake)
    a, b = object(), object()
    df = sweep.lm_grid([({"arm": "a"}, a), ({"arm": "a again"}, a), ({"arm": "b"}, b)], [0, 1], steps=4)
    assert len(df) == 6 and len(calls) == 4
    assert df[df.arm == "a again"].val_loss.tolist() == [1.0, 2.0]


def test_fit_lm_reads_the_halfway_and_final_losses():
    from memnb.data import tokenizers
    from memnb.drex.model import DrexConfig

    cfg = DrexConfig(tokenizers.get_tokenizer("char").vocab_size, d_model=16, n_layers=1, n_heads=2, segment_len=8)
    res = sweep._fit_lm(cfg, 0, {"steps": 4, "batch_size": 2, "n_segments": 2, "val_tokens": 256})
    assert res["val_loss_half"] > 0 and res["val_loss"] > 0 and res["val_loss"] != res["val_loss_half"]
