"""Chapter 50's MQAR pieces (memnb.leaderboard): paired batches, held-out sets at 1×/2×/4×, the
scorer's known answers, state sizes, the convergence measure, one tiny run end to end, the arms,
the parallel sweep (same numbers with one or two workers), the pilot's command line, the
chapter's parameters and rules."""

import math
from dataclasses import replace

import pytest
import torch
import torch.nn as nn

from memnb.leaderboard import mqar_pilot
from memnb.leaderboard.mqar import MQARRun, batches, eval_set, gain_last_quarter, score, state_floats, train_mqar
from memnb.leaderboard.presets import CPU_ARMS, Leaderboard
from memnb.leaderboard.rules import RULES
from memnb.leaderboard.sweep import ARMS, arm_run, run_all

TINY = MQARRun(d_model=16, n_heads=2, seq_len=16, n_pairs=2, vocab_size=66, batch_size=4, eval_n=8, steps=8)


def test_batches_are_a_pure_function_of_seed_and_step():
    a, b, c = batches(TINY), batches(TINY), batches(replace(TINY, seed=1))
    assert all(torch.equal(x, y) for x, y in zip(a(5), b(5), strict=True))
    assert not torch.equal(a(5)[0], a(6)[0]) and not torch.equal(a(5)[0], c(5)[0])
    x, y = a(0)
    assert x.shape == y.shape == (4, 16) and ((y != -100).sum(1) == 2).all()
    held = eval_set(TINY)
    assert len(held) == 8 and not torch.equal(held.inputs[:4], x)
    for m in (2, 4):
        longer = eval_set(TINY, m)
        assert longer.inputs.shape == (8, 16 * m) and (longer.answer_mask.sum(1) == 2 * m).all()
        assert int(longer.inputs.max()) < 66


class Oracle(nn.Module):
    """Logits that put ``margin`` on the right value at scored positions (when given targets)."""

    def __init__(self, targets: torch.Tensor | None, vocab: int) -> None:
        super().__init__()
        self.targets, self.vocab, self.w = targets, vocab, nn.Parameter(torch.zeros(()))
        self.seen = 0

    def forward(self, idx, state=None):
        logits = torch.zeros(*idx.shape, self.vocab) + self.w
        if self.targets is not None:
            t = self.targets[self.seen : self.seen + idx.size(0)]
            logits[t != -100] = torch.nn.functional.one_hot(t[t != -100], self.vocab).float() * 50.0
        self.seen += idx.size(0)
        return logits, None


def test_score_known_answers_in_chunks():
    held = eval_set(TINY)
    perfect = score(Oracle(held.targets, 66), held, chunk=3)  # 8 examples in chunks of 3, 3, 2
    assert perfect["accuracy"] == 1.0 and perfect["nll"] < 1e-10
    uniform = score(Oracle(None, 66), held)
    assert uniform["nll"] == pytest.approx(math.log(66))
    assert uniform["accuracy"] == pytest.approx((held.targets[held.answer_mask] == 0).float().mean().item())


def test_state_floats():
    attn = MQARRun(d_model=16, n_heads=2, seq_len=16, n_pairs=2, vocab_size=66, short_conv=0)
    assert state_floats(attn.decoder(), 16) == 2 * 2 * 16 * 16  # layers × (K, V) × L × d
    conv = replace(attn, short_conv=3)
    assert state_floats(conv.decoder(), 16) == 2 * 2 * 16 * 16 + 2 * 2 * 16  # + the last 2 inputs
    gdn = replace(attn, memory="gated_delta_rule")
    assert state_floats(gdn.decoder(), 16) == 2 * 2 * 8 * 8  # layers × heads × K × V
    assert state_floats(replace(gdn, n_heads=1).decoder(), 16) == 2 * 16 * 16  # one head: twice the state


def test_gain_last_quarter():
    curve = [{"step": 10 * i, "accuracy": a} for i, a in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9], 1)]
    assert gain_last_quarter(curve) == pytest.approx(0.9 - 0.6)  # step 80 minus step 60


def test_bad_runs():
    with pytest.raises(ValueError, match="unknown memory"):
        MQARRun(memory="lstm")
    with pytest.raises(ValueError, match="seq_len must be even"):
        MQARRun(seq_len=63)
    with pytest.raises(ValueError, match=r"vocab_size \(200\) must exceed seq_len \(256\)"):
        MQARRun(vocab_size=200)  # the 4× column (L = 256) needs V > 256
    with pytest.raises(ValueError, match="multiple of 8"):
        MQARRun(steps=100)


def test_tiny_run_end_to_end(one_thread):
    run = replace(TINY, memory="gated_delta_rule")
    a, b = train_mqar(run), train_mqar(run)
    assert [r["step"] for r in a["curve"]] == list(range(1, 9))
    assert a["curve"] == b["curve"] and a["longer"] == b["longer"] and set(a["longer"]) == {"2", "4"}
    assert 0 <= a["accuracy"] <= 1 and a["cpu_s"] > 0 and a["train_flops_per_token"] > 0
    assert a["gain_last_quarter"] == pytest.approx(a["curve"][-1]["accuracy"] - a["curve"][5]["accuracy"])
    assert a["run"]["memory"] == "gated_delta_rule" and a["state_floats"] == 2 * 2 * 8 * 8 + 2 * 16


def test_arms():
    r = arm_run("gated_delta_rule_h1", TINY, seed=3)
    assert (r.memory, r.n_heads, r.short_conv, r.seed) == ("gated_delta_rule", 1, 2, 3)
    assert arm_run("attention_noconv", TINY).short_conv == 0
    with pytest.raises(ValueError, match="unknown arm 'lstm'"):
        arm_run("lstm", TINY)
    for name in ARMS:  # every arm builds and runs a forward pass at the tiny size
        model = arm_run(name, TINY).decoder()
        assert model(batches(TINY)(0)[0])[0].shape == (4, 16, 66)


def test_sweep_gives_the_same_numbers_with_one_or_two_workers(one_thread):
    runs = [arm_run(a, replace(TINY, eval_n=4)) for a in ("attention", "gated_delta_rule_h2")]
    one, two = run_all(runs, workers=1), run_all(runs, workers=2)
    strip = [{k: v for k, v in r.items() if k not in ("wall_s", "cpu_s")} for r in one]
    assert strip == [{k: v for k, v in r.items() if k not in ("wall_s", "cpu_s")} for r in two]


def test_pilot_command_line(capsys):
    rows = mqar_pilot.main(
        ["--arm", "attention_nope", "--steps", "8", "--seq-len", "16", "--pairs", "2", "--vocab", "66", "--d-model",
         "16", "--batch", "4", "--eval-n", "4"]
    )  # fmt: skip
    assert len(rows) == 1 and "attention_nope acc=" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="must exceed seq_len"):
        mqar_pilot.main(["--vocab", "100"])


def test_preset_checks_the_task_at_every_length():
    assert Leaderboard.resolve("cpu").arms == CPU_ARMS
    with pytest.raises(ValueError, match="must exceed seq_len"):
        Leaderboard.resolve("cpu", {"vocab_size": 200})
    with pytest.raises(ValueError, match="multiple of 8"):
        Leaderboard.resolve("cpu", {"steps": 100})
    with pytest.raises(ValueError, match="must be one of"):
        Leaderboard.resolve("cpu", {"arms": ["attention", "lstm"]})


def test_rules_read_only_what_the_cpu_arms_publish():
    published = {f"{a}/{m}" for a in CPU_ARMS for m in ("acc", "gain_last_quarter", "state_floats")}
    for rule in RULES.values():
        assert set(rule.metric_names()) <= published, rule.id
