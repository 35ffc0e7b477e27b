"""ReLSM ladder audits: causality of every arm, the shipped thought-stream leak, and halting."""

from __future__ import annotations

import pytest
import torch

from memnb.relsm.act import GravesHalting, ShippedHalting
from memnb.relsm.audit import future_leak, halting_gradient, other_token, train_step_flops
from memnb.relsm.thoughts import ThoughtStream
from memnb.relsm.variants import CAUSAL, VARIANTS, LadderConfig, build

pytestmark = pytest.mark.usefixtures("one_thread")


CFG = LadderConfig(vocab_size=40, d_model=16, n_heads=2)


def tokens(seed: int = 0, B: int = 3, T: int = 13) -> torch.Tensor:
    return torch.randint(2, 40, (B, T), generator=torch.Generator().manual_seed(seed))


def model(variant: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build(variant, CFG).double()


@pytest.mark.parametrize("variant", VARIANTS)
def test_future_token_changes_no_earlier_logit_unless_shipped(variant: str) -> None:
    m, idx = model(variant), tokens()
    leaks = [future_leak(m, idx, t) for t in (0, 5, 11)]
    if CAUSAL[variant]:
        assert max(leaks) == 0.0
    else:
        assert min(leaks) > 1e-6  # the shipped thought stream reads every position


def test_the_leak_edit_picks_another_non_special_token() -> None:
    ids = torch.arange(2, 40)
    edited = other_token(40, 2)(ids)
    assert torch.all(edited != ids) and edited.min() >= 2 and edited.max() < 40


def test_shipped_act_halting_head_gets_no_gradient_and_graves_does() -> None:
    idx = tokens()
    y = torch.roll(idx, -1, dims=1)
    assert halting_gradient(model("act_seed"), idx, y) is None
    assert halting_gradient(model("act"), idx, y) > 0.0


def stream(causal: bool, mode: str | None = None) -> ThoughtStream:
    torch.manual_seed(0)
    mode = mode or ("causal" if causal else "shipped")
    return ThoughtStream(8, 2, 3, 16, mode=mode, pad_id=0, prompt_id=2).double()


def test_prompt_only_thoughts_read_the_prompt_and_reach_only_the_answer() -> None:
    """Rows with <sep> (id 2) at p: positions < p are untouched, positions >= p all get the same
    vector, and changing a token after p changes nothing; a row without <sep> is untouched."""
    s = stream(False, "prompt")
    h = torch.randn(3, 8, 8, dtype=torch.float64)
    idx = torch.tensor([[5, 6, 2, 7, 8, 9, 3, 4], [5, 2, 6, 7, 8, 9, 3, 4], [5, 6, 7, 8, 9, 3, 4, 5]])
    out = s(h, idx)
    assert torch.equal(out[0, :2], h[0, :2]) and torch.equal(out[1, :1], h[1, :1]) and torch.equal(out[2], h[2])
    delta = out[0, 2:] - h[0, 2:]
    assert torch.allclose(delta, delta[:1].expand_as(delta)) and delta.abs().max() > 0
    edited = idx.clone()
    edited[0, 3:] = 9
    assert torch.equal(s(h, edited)[0], out[0])


def test_planted_leak_reads_one_token_ahead() -> None:
    m, idx = model("planted_leak"), tokens()
    assert future_leak(m, idx, 5) > 1e-6


def test_graves_halting_known_answer() -> None:
    """Halting units all 0.6: N = 2 (0.6 + 0.6 >= 0.99), R = 1 - 0.6, ponder N + R = 2.4, and the
    output is 0.6 z_1 + 0.4 z_2."""
    s = stream(causal=True)
    act = GravesHalting(s, max_k=5).double()
    assert act.halt.bias.abs().max() == 0 and act.tau == 1e-3  # issue 17's initialisation
    torch.nn.init.zeros_(act.halt.weight)
    torch.nn.init.constant_(act.halt.bias, torch.logit(torch.tensor(0.6)).item())
    h = torch.randn(2, 6, 8, dtype=torch.float64)
    idx = torch.ones(2, 6, dtype=torch.long)
    out = act(h, idx)
    assert torch.all(act.last_iterations == 2)
    assert torch.allclose(act.last_ponder, torch.full((2, 6), 2.4, dtype=torch.float64))
    z, mask = s.start(h, idx)
    kv = s.core.keys(h)
    z1 = s.core(z, kv, mask)
    z2 = s.core(z1, kv, mask)
    want = h + s.to_token(0.6 * s.summary(z1, 6) + 0.4 * s.summary(z2, 6))
    assert torch.allclose(out, want, atol=1e-12)


def test_shipped_halting_stops_per_batch_with_min_steps() -> None:
    """p = 0.95 from step min_k + 1 on: c = 0.95 after step 3, 0.9975 after step 4 -> stop at 4."""
    act = ShippedHalting(stream(causal=False), min_k=2, max_k=8).double()
    torch.nn.init.zeros_(act.halt.weight)
    torch.nn.init.constant_(act.halt.bias, torch.logit(torch.tensor(0.95)).item())
    act(torch.randn(2, 5, 8, dtype=torch.float64), torch.ones(2, 5, dtype=torch.long))
    assert torch.all(act.last_iterations == 4)
    assert not act.ponder_loss().requires_grad  # the shipped ponder cost is a constant


def test_causal_thoughts_with_a_full_mask_equal_the_shipped_stream() -> None:
    """The prefix mask is the only difference: at the last position the causal stream sees
    everything, so it must equal the shipped stream there."""
    shipped, causal = stream(causal=False), stream(causal=True)
    causal.load_state_dict(shipped.state_dict())
    h = torch.randn(2, 7, 8, dtype=torch.float64)
    idx = torch.ones(2, 7, dtype=torch.long)
    assert torch.allclose(shipped(h, idx)[:, -1], causal(h, idx)[:, -1], atol=1e-12)


def test_shared_loop_costs_twice_the_blocks_at_equal_parameters() -> None:
    idx = tokens()
    y = torch.roll(idx, -1, dims=1)
    torch.manual_seed(0)
    base, loop = build("baseline", CFG), build("shared_loop", CFG)
    assert base.num_params() == loop.num_params()
    fb, fl = train_step_flops(base, idx, y), train_step_flops(loop, idx, y)
    assert 1.5 < fl / fb < 2.0  # blocks twice, embedding and head once
