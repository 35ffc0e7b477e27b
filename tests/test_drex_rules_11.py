"""Chapter 11's protocol-2 rules (``memnb.drex.rules.CHAPTER_11``) decide synthetic metrics as the
decision table says: θ = 0.70 against each other threshold with Holm, the combination gate as an
equivalence with the memory-removed control, the null gate on the language model's val loss with
the halfway-trained control, the trained write rate as a property, the bands as an identity."""

import math

import pytest

from memnb import stats
from memnb.drex import rules
from memnb.verdicts import judge

N = 5


def _metrics(**over) -> dict:
    series = {rules._theta(th): [0.40, 0.50, 0.35, 0.45, 0.42] for th in rules.THETAS_48}
    series |= {
        "kv_recall_combination_gate": [0.41, 0.50, 0.36, 0.44, 0.42],
        "kv_recall_memory_removed": [0.03] * N,
        "wr_or_theta070_L32": [0.580645] * N,
        "wr_or_theta070_L96": [0.421053] * N,
        "wr_trained_minus_formula_abs": [0.0] * 3,
        "lm_val_loss_null_gate": [2.35, 2.36, 2.34, 2.37, 2.35],
        "lm_val_loss_no_null_gate": [2.351, 2.358, 2.342, 2.369, 2.352],
        "lm_val_loss_null_gate_half_steps": [2.55, 2.56, 2.54, 2.57, 2.55],
    }
    series |= over
    return {k: stats.summarize(v) for k, v in series.items()} | {"wr_formula_max_abs_error": 0.035}


def _verdicts(metrics: dict) -> dict:
    return {cid: judge(r, metrics)["verdict"] for cid, r in rules.CHAPTER_11.items()}


def test_chapter_11_rules_are_protocol_2_with_controls():
    assert set(rules.CHAPTER_11) == {
        "drex.gate_write_rates",
        "drex.write_rates_trained",
        "drex.thresh_070_best",
        "drex.null_gate",
        "drex.no_combination_gate",
    }
    for r in rules.CHAPTER_11.values():
        assert r.protocol == 2
        assert (r.direction == "check") == (r.kind == "identity")
        assert r.kind == "identity" or r.control is not None
    assert len(rules.THRESH_070_BEST.comparisons) == 5  # 0.70 against each of exp_48_1's other five


def test_delta_of_the_null_gate_is_half_the_seeds_effect_in_nats():
    assert rules.NULL_GATE_SEED_NATS == pytest.approx(math.log((2.33 + 0.30) / 2.33), abs=1e-6)
    assert rules.DELTA_NULL == pytest.approx(rules.NULL_GATE_SEED_NATS / 2, abs=1e-4)


def test_decisions_on_synthetic_metrics():
    assert _verdicts(_metrics()) == {
        "drex.gate_write_rates": "SUPPORTED",  # in band on every seed
        "drex.write_rates_trained": "REFUTED",  # training never moves the rate
        "drex.thresh_070_best": "REFUTED",  # 0.70 = every other threshold, seed by seed
        "drex.null_gate": "REFUTED",  # +0.002 nats, far below delta
        "drex.no_combination_gate": "SUPPORTED",  # within 0.01 of each other
    }


def test_clear_wins_and_failed_controls():
    better = {rules._theta(th): [0.20, 0.30, 0.15, 0.25, 0.22] for th in rules.THETAS_48 if th != 0.70}
    assert judge(rules.THRESH_070_BEST, _metrics(**better))["verdict"] == "SUPPORTED"
    gate = _metrics(kv_recall_combination_gate=[0.1, 0.2, 0.05, 0.1, 0.12])
    assert judge(rules.NO_COMBINATION_GATE, gate)["verdict"] == "REFUTED"
    dead = _metrics(**{rules._theta(0.70): [0.03] * N})  # the memory is never used: nothing to tell apart
    assert judge(rules.NO_COMBINATION_GATE, dead)["verdict"] == "UNTESTABLE"
    assert judge(rules.THRESH_070_BEST, dead)["verdict"] == "UNTESTABLE"
    flat = _metrics(lm_val_loss_null_gate_half_steps=[2.36, 2.37, 2.35, 2.38, 2.36])  # training has stalled
    assert judge(rules.NULL_GATE, flat)["verdict"] == "UNTESTABLE"
    moved = _metrics(wr_trained_minus_formula_abs=[0.0, 0.05, 0.0])
    assert judge(rules.WRITE_RATES_TRAINED, moved)["verdict"] == "SUPPORTED"
    out = _metrics(wr_or_theta070_L96=[0.6] * N)
    assert judge(rules.GATE_WRITE_RATES, out)["verdict"] == "REFUTED"
