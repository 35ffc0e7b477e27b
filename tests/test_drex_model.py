"""The four-tier Drex model: causal, segment-recurrent, L4 where the seed puts it, write rates
from the gate's closed form, parameter matching."""

import math

import pytest
import torch

from memnb.drex.model import DrexConfig, DrexModel, matched_mlp_hidden, write_rates
from memnb.seeding import seed_everything

V, S = 23, 8
TIERS = {
    "L1": dict(l2=False),
    "L1+L2": dict(),
    "L1+L2+L3": dict(l3=True, titans_chunk=4),
    "L1+L2+L4": dict(l4=True),
    "L1+L2+L4 last layer": dict(l4=True, l4_layers="last"),
    "L1+L2+L4 per-position carry": dict(l4=True, l4_readout="per_position", l4_carry=True),
    "all four": dict(l3=True, l4=True, titans_chunk=4),
}


def model(**kw) -> DrexModel:
    seed_everything(0, threads=1)
    cfg = DrexConfig(V, **{"d_model": 16, "n_layers": 2, "n_heads": 2, "segment_len": S, **kw})
    return DrexModel(cfg).double().eval()


@pytest.mark.parametrize("name", list(TIERS))
def test_causal(name):
    m = model(**TIERS[name])
    idx = torch.randint(0, V, (2, 3 * S + 3))
    t = 2 * S + 1
    edited = idx.clone()
    edited[:, t] = (edited[:, t] + 1) % V
    with torch.no_grad():
        a, b = m(idx)[0], m(edited)[0]
    assert (a[:, :t] - b[:, :t]).abs().max() < 1e-6
    assert (a[:, t:] - b[:, t:]).abs().max() > 1e-6  # and the edit is seen from t on


@pytest.mark.parametrize("name", list(TIERS))
def test_segments_with_state_carried_equal_one_pass(name):
    m = model(**TIERS[name])
    idx = torch.randint(0, V, (2, 3 * S + 5))
    with torch.no_grad():
        full = m(idx)[0]
        for piece in (S, 5):
            state, parts = None, []
            for start in range(0, idx.size(1), piece):
                logits, state = m(idx[:, start : start + piece], state)
                parts.append(logits)
            assert (torch.cat(parts, 1) - full).abs().max() < 1e-9


def test_seed_l4_reaches_only_the_last_token_of_each_segment():
    """With no attention, L4 (the seed's readout) changes only positions S-1, 2S-1, ..."""
    with_l4 = model(l1=False, l2=False, l4=True)
    without = model(l1=False, l2=False)
    without.load_state_dict(with_l4.state_dict(), strict=False)
    idx = torch.randint(0, V, (2, 3 * S))
    with torch.no_grad():
        diff = (with_l4(idx)[0] - without(idx)[0]).abs().amax(dim=(0, 2))
    last = torch.arange(3 * S) % S == S - 1
    assert diff[~last].max() < 1e-12
    assert diff[last].min() > 1e-6


def _expected_fires(eta: float, thresh: float, L: int) -> int:
    """The closed form for one repeated key (book/appendix/drex.md §4): the semantic error
    after its n-th write is (1-η)^n‖k‖, the episodic one shrinks by (1 - η (t+1)/L) per write;
    the OR gate fires while either relative error is >= θ, over the L-1 write positions."""
    sem = epi = 1.0
    fires = 0
    for t in range(L - 1):
        if sem >= thresh or epi >= thresh:
            fires += 1
            sem *= 1 - eta
            epi *= 1 - eta * (t + 1) / L
    return fires


@pytest.mark.parametrize("thresh", [0.5, 0.7, 0.9])
def test_write_rate_of_a_repeated_token_matches_the_closed_form(thresh):
    """No attention: every position of a repeated token has the same key (book/appendix/drex.md §4)."""
    L = 32
    m = model(l1=False, l2=False, l4=True, l4_thresh=thresh, segment_len=L, n_layers=1)
    idx = torch.full((1, L), 5)
    with torch.no_grad():
        _, state = m(idx)
    eta = m.blocks[0].l4.eta(L)
    assert eta == pytest.approx(1 - 0.95 ** (96 / L))
    assert write_rates(state)[0] == pytest.approx(_expected_fires(eta, thresh, L) / (L - 1))


def test_matched_parameter_count():
    base = DrexConfig(V, d_model=32, n_layers=2, n_heads=4, segment_len=S)
    target = DrexModel(DrexConfig(V, d_model=32, n_layers=2, n_heads=4, segment_len=S, l4=True)).num_params()
    hidden = matched_mlp_hidden(base, target)
    got = DrexModel(DrexConfig(V, d_model=32, n_layers=2, n_heads=4, segment_len=S, mlp_hidden=hidden)).num_params()
    per_unit = 2 * (2 * 32 + 1)  # two layers, each FFN unit has 2d weights and one bias
    assert abs(got - target) <= per_unit / 2
    assert hidden > 4 * 32


def test_tier_names_and_bad_configs():
    assert DrexConfig(V, l3=True, l4=True).tiers == "L1+L2+L3+L4"
    assert DrexConfig(V, l4=True, l4_layers="last").tiers == "L1+L2+L4 (L4 last layer)"
    with pytest.raises(ValueError, match="set l1=True"):
        DrexConfig(V, l1=False, l2=True)
    with pytest.raises(ValueError, match="l4_layers"):
        DrexConfig(V, l4=True, l4_layers="first")
    with pytest.raises(ValueError, match="even size"):
        DrexConfig(V, d_model=12, n_heads=4)


def test_untrained_lm_loss_is_near_uniform():
    m = model(l4=True)
    idx = torch.randint(0, V, (4, 2 * S))
    with torch.no_grad():
        logits = m(idx)[0]
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), idx[:, 1:].reshape(-1))
    assert abs(loss.item() - math.log(V)) < 0.05


def test_null_gate_switch_removes_only_the_gate():
    """``l4_null_gate=False``: L4 without its Linear(d, 1) null gate in every L4 block, nothing else."""
    m_on, m_off = model(l4=True), model(l4=True, l4_null_gate=False)
    assert all(b.null is not None for b in m_on.l4_modules()) and all(b.null is None for b in m_off.l4_modules())
    assert m_on.num_params() - m_off.num_params() == 2 * (16 + 1)
    x = torch.randint(0, V, (2, 2 * S))
    assert m_off(x)[0].shape == m_on(x)[0].shape
