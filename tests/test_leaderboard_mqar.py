"""MQAR training pieces (memnb.leaderboard.mqar): paired batches, a held-out set, the scorer's
known answers, state sizes, and one tiny run end to end (with the pilot's command line)."""

import math

import pytest
import torch
import torch.nn as nn

from memnb.leaderboard import mqar_pilot
from memnb.leaderboard.mqar import MQARRun, batches, eval_set, score, state_floats, train_mqar

TINY = MQARRun(d_model=16, n_heads=2, seq_len=16, n_pairs=2, vocab_size=20, batch_size=4, eval_n=8, eval_every=2)


def test_batches_are_a_pure_function_of_seed_and_step():
    a, b, c = batches(TINY), batches(TINY), batches(MQARRun(**{**TINY.__dict__, "seed": 1}))
    assert all(torch.equal(x, y) for x, y in zip(a(5), b(5), strict=True))
    assert not torch.equal(a(5)[0], a(6)[0]) and not torch.equal(a(5)[0], c(5)[0])
    x, y = a(0)
    assert x.shape == y.shape == (4, 16) and ((y != -100).sum(1) == 2).all()
    held = eval_set(TINY)
    assert len(held) == 8 and not torch.equal(held.inputs[:4], x)
    longer = eval_set(TINY, seq_len=18, n_pairs=4)
    assert longer.inputs.shape == (8, 18) and (longer.answer_mask.sum(1) == 4).all()


class Oracle(nn.Module):
    """Logits that put ``margin`` on the right value at scored positions (when given targets)."""

    def __init__(self, targets: torch.Tensor | None, vocab: int) -> None:
        super().__init__()
        self.targets, self.vocab, self.w = targets, vocab, nn.Parameter(torch.zeros(()))

    def forward(self, idx, state=None):
        logits = torch.zeros(*idx.shape, self.vocab) + self.w
        if self.targets is not None:
            t = self.targets[: idx.size(0)]
            logits[t != -100] = torch.nn.functional.one_hot(t[t != -100], self.vocab).float() * 50.0
        return logits, None


def test_score_known_answers():
    held = eval_set(TINY)
    perfect = score(Oracle(held.targets, 20), held)
    assert perfect["accuracy"] == 1.0 and perfect["nll"] < 1e-10
    uniform = score(Oracle(None, 20), held)
    assert uniform["nll"] == pytest.approx(math.log(20))
    assert uniform["accuracy"] == pytest.approx((held.targets[held.answer_mask] == 0).float().mean().item())


def test_state_floats():
    attn = MQARRun(d_model=16, n_heads=2, seq_len=16, n_pairs=2, vocab_size=20)
    assert state_floats(attn.decoder(), 16) == 2 * 2 * 16 * 16  # layers × (K, V) × L × d
    conv = MQARRun(**{**attn.__dict__, "short_conv": 3})
    assert state_floats(conv.decoder(), 16) == 2 * 2 * 16 * 16 + 2 * 2 * 16  # + the last 2 inputs
    gdn = MQARRun(**{**attn.__dict__, "memory": "gated_delta_rule"})
    assert state_floats(gdn.decoder(), 16) == 2 * 2 * 8 * 8  # layers × heads × K × V


def test_bad_runs():
    with pytest.raises(ValueError, match="unknown memory"):
        MQARRun(memory="lstm")
    with pytest.raises(ValueError, match="seq_len must be even"):
        MQARRun(seq_len=63)


def test_tiny_run_end_to_end(one_thread, capsys):
    run = MQARRun(**{**TINY.__dict__, "steps": 4, "memory": "gated_delta_rule", "short_conv": 2})
    a, b = train_mqar(run), train_mqar(run)
    assert [r["step"] for r in a["curve"]] == [2, 4]
    assert a["curve"] == b["curve"] and 0 <= a["accuracy"] <= 1 and a["cpu_s"] > 0
    assert a["run"]["memory"] == "gated_delta_rule" and a["state_floats"] == 2 * 2 * 8 * 8 + 2 * 16
    rows = mqar_pilot.main(
        ["--run", "attention_nope:0:2", "--seq-len", "16", "--pairs", "2", "--vocab", "20", "--eval-every", "1"]
    )
    assert len(rows) == 1 and "attention_nope conv=0" in capsys.readouterr().out
