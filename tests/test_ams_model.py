"""AMS value checks on a tiny random GPT-2: prefix norm, the bit-identical geometry ablation,
trainer pieces. (Decoding and the QA objective on the real reader: tests/test_ams_harness.py.)"""

import math

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.ams import geometry
from memnb.ams.cross_bundle import CrossBundleAttention, norm_ratio
from memnb.ams.model import AMS
from memnb.ams.prefix import content_bias, idf
from memnb.ams.trainer import TrainSpec, jaccard, pearson, train


class CharTok:
    """Bytes as ids (vocab 256): enough for the AMS code paths."""

    eos_id, pad_id = 0, 0

    def encode(self, text):
        return [b for b in text.encode()][:60]

    def decode(self, ids):
        return bytes(int(i) for i in ids).decode(errors="replace")


@pytest.fixture(scope="module")
def lm():
    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=256, n_positions=128, n_embd=32, n_layer=1, n_head=2)).eval()
    m.requires_grad_(False)
    return m


def test_prefix_norm_ratio_on_known_tensor():
    prefix = torch.zeros(12, 4)
    prefix[:, 0] = 3.0
    wte = torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0]])  # mean norm 1.5
    assert torch.allclose(norm_ratio(prefix, wte), torch.full((12,), 2.0))


def test_layernorm_prefix_norm_is_sqrt_d_times_scale():
    D = 64
    fibers = {"time": torch.randn(5, 32), "topic": torch.randn(5, 64), "ctx": torch.randn(5, 48)}
    for mode, scale in (("ln", 1.0), ("inv_sqrt_d", 1 / math.sqrt(D)), ("emb", 0.5 / math.sqrt(D))):
        cross = CrossBundleAttention(D, scale_mode=mode, emb_norm=0.5)
        p, w = cross(torch.randn(D), fibers)
        assert p.shape == (12, D)
        assert torch.allclose(p.norm(dim=-1), torch.full((12,), math.sqrt(D) * scale), rtol=1e-3)
        assert torch.allclose(w["topic"].sum(-1), torch.ones(8))  # attention over memories sums to 1
    with pytest.raises(ValueError, match="scale_mode"):
        CrossBundleAttention(D, scale_mode="loud")


def test_geometry_ablation_bit_identical(lm):
    tok = CharTok()
    facts = ["My dog is named Kofi.", "I work as a baker.", "Tides rise twice a day."]
    outs = []
    for with_geo in (False, True):
        torch.manual_seed(3)
        m = AMS(lm, tok, with_geometry=with_geo)
        p, _ = m.prefix(m.write(facts), "User: What is my job?\nAssistant:")
        log = train(m, TrainSpec(steps=1), seed=0)
        p2, _ = m.prefix(m.write(facts), "User: What is my job?\nAssistant:")
        outs.append((p.detach(), log, p2.detach()))
    assert torch.equal(outs[0][0], outs[1][0]) and outs[0][1] == outs[1][1] and torch.equal(outs[0][2], outs[1][2])
    # and the geometry is never touched: its parameters got no gradient
    assert all(p.grad is None for p in m.geometry.parameters())


@torch.no_grad()
def test_geometry_closed_forms():
    torch.manual_seed(0)
    conn = geometry.FiberConnection(4, 6)
    x = torch.randn(4)
    g = conn.metric(x)
    assert torch.allclose(g, g.T) and float(torch.linalg.eigvalsh(g).min()) > 0  # SPD
    A = conn(x, torch.randn(4))
    assert torch.allclose(A, -A.T)  # so(F)
    f = torch.randn(6)
    out = conn.transport(f, torch.linspace(0, 1, 9)[:, None] * torch.randn(4))
    assert abs(float(out.norm() / f.norm()) - 1) < 1e-5  # renormalised every 4 of 8 segments


def test_trainer_pieces_and_content_bias():
    assert abs(float(pearson(torch.tensor([0.0, 1, 2]), torch.tensor([1.0, 3, 5]))) - 1) < 1e-6
    assert jaccard(set(), set()) == 1.0 and jaccard({1, 2}, {2, 3}) == 1 / 3
    with pytest.raises(ValueError, match="objective"):
        TrainSpec(objective="magic")
    v = idf([[1, 2], [2, 3]], 5)
    assert abs(float(v[2]) - 1.0) < 1e-6 and float(v[1]) > float(v[2])
    b = content_bias([[1], [3]], v, 2.0)
    assert float(b[2]) == 0 and abs(float(b[1]) - 2 * float(v[1])) < 1e-6


def test_batched_pool_matches_one_at_a_time(lm):
    """``AMS.pool`` (texts read 32 at a time, right-padded) fills the cache with the states
    ``pooled`` reads alone, up to float rounding; texts already cached are not read again."""
    tok = CharTok()
    texts = ["My dog is named Kofi.", "Tides.", "I work as a baker in the old town.", "A", "My dog is named Kofi."]
    alone = AMS(lm, tok)
    ref = torch.stack([alone.pooled(t) for t in texts])
    batched = AMS(lm, tok)
    batched.pool(texts)
    assert len(batched._h) == 4  # duplicates read once
    got = torch.stack([batched._h[t] for t in texts])
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-4)
    sentinel = torch.full_like(ref[0], 7.0)
    batched._h["Tides."] = sentinel
    batched.pool(["Tides.", "New text."])
    assert batched._h["Tides."] is sentinel and "New text." in batched._h
