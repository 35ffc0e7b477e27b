"""Chapter 12's protocol-2 rules (``memnb.drex.rules.CHAPTER_12``) decide synthetic metrics as the
decision table says: recall (Exp B − Exp A key gain) with the within-segment control, and
last-layer-only as quality (an equivalence, halfway-trained control) and speed (counted FLOPs)."""

import math

import pytest

from memnb import stats
from memnb.drex import rules
from memnb.verdicts import judge

N_EP, N = 5, 8


def _metrics(**over) -> dict:
    series = {
        "key_gain_A_beyond": [0.01, 0.02, 0.0, 0.01, 0.015],
        "key_gain_B_beyond": [0.012, 0.018, 0.004, 0.011, 0.013],
        "key_gain_A_in_segment": [1.5, 2.0, 1.8, 2.2, 1.7],
        "key_gain_B_in_segment": [1.4, 2.1, 1.9, 2.0, 1.6],
        "passkey_exact_A_beyond": [0.0] * N_EP,
        "passkey_exact_B_beyond": [0.0] * N_EP,
        "val_loss_A_mixture": [2.5] * N_EP,
        "val_loss_B_mixture": [2.5] * N_EP,
        "val_loss_B": [2.10, 2.12, 2.09, 2.11, 2.10, 2.13, 2.08, 2.10],
        "val_loss_B_last": [2.101, 2.118, 2.092, 2.111, 2.099, 2.128, 2.083, 2.101],
        "val_loss_B_half_steps": [2.30] * N,
        "val_loss_B_last_half_steps": [2.30] * N,
        "flops_log_ratio_all_over_last": [0.059] * N,
        "flops_log_ratio_two_over_one_layer": [0.655] * N,
        "last_over_all_train_tokens_per_s": [1.3] * N,
    }
    series |= over
    return {k: stats.summarize(v) for k, v in series.items()} | {
        "flops_per_token_B": 2.0,
        "flops_per_token_B_last": 1.9,
    }


def _verdicts(metrics: dict) -> dict:
    return {cid: judge(r, metrics)["verdict"] for cid, r in rules.CHAPTER_12.items()}


def test_chapter_12_rules_are_protocol_2_with_controls():
    assert set(rules.CHAPTER_12) == {"drex.episodic_memory_helps", "drex.last_layer_only"}
    for r in rules.CHAPTER_12.values():
        assert r.protocol == 2 and r.kind == "seed"
    assert rules.EPISODIC_MEMORY_HELPS.control is not None
    assert all(p.control is not None and p.delta for _, p in rules.LAST_LAYER_ONLY.parts)


def test_delta_speed_is_half_the_seeds_speed_up_on_a_log_scale():
    assert rules.DELTA_SPEED == pytest.approx(math.log(2.7) / 2, abs=5e-5)


def test_decisions_on_synthetic_metrics():
    v = _verdicts(_metrics())
    assert v["drex.episodic_memory_helps"] == "REFUTED"  # B − A ≈ 0: an effect of delta is excluded
    assert v["drex.last_layer_only"] == "REFUTED"  # same quality, but the FLOPs gain is far below delta
    parts = {p["name"]: p["verdict"] for p in judge(rules.LAST_LAYER_ONLY, _metrics())["parts"]}
    assert parts == {"quality": "SUPPORTED", "speed": "REFUTED"}
    better = _metrics(key_gain_B_beyond=[0.5, 0.6, 0.4, 0.55, 0.45])
    assert _verdicts(better)["drex.episodic_memory_helps"] == "SUPPORTED"


def test_failed_controls_make_claims_untestable():
    no_copy = _metrics(key_gain_A_in_segment=[0.01, 0.0, -0.01, 0.02, 0.0])
    assert _verdicts(no_copy)["drex.episodic_memory_helps"] == "UNTESTABLE"
    flat = _metrics(val_loss_B_half_steps=[2.11] * N)
    parts = {p["name"]: p["verdict"] for p in judge(rules.LAST_LAYER_ONLY, flat)["parts"]}
    assert parts["quality"] == "UNTESTABLE"
