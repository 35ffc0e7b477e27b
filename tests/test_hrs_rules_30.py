"""Chapter 30's protocol-2 rules: the probe-decided claims with a planted-leak control, the measured
parts behind the count-trigram regime control, the identity."""

import pytest

from memnb.hrs import rules
from memnb.verdicts import judge

SEEDS = 3


def _metrics(**over):
    m = {
        "probe_prepend_self": [1.0] * SEEDS,
        "probe_xattn_ema": [0.0] * SEEDS,
        "probe_xattn_self": [0.8] * SEEDS,
        "probe_prepend_ema": [0.0] * SEEDS,
        "loss_prepend_self_present": [1.80, 1.81, 1.79],
        "loss_prepend_self_past_windows": [1.90, 1.92, 1.89],
        "loss_prepend_self_absent": [1.85, 1.86, 1.84],
        "loss_xattn_ema_present": [1.850, 1.851, 1.849],
        "loss_xattn_ema_absent": [1.851, 1.850, 1.850],
        "trigram_minus_none_loss": [0.2] * SEEDS,
        "trigram_minus_v16_past_loss": [0.2] * SEEDS,
        "trigram_minus_v18_loss": [0.2] * SEEDS,
        "v18_shuffle_sensitivity": [0.0] * SEEDS,
        "xattn_spread_xattn_ema_layer1": [0.0] * SEEDS,
        "xattn_spread_xattn_ema_layer3": [0.0] * SEEDS,
    }
    return m | over


def _parts(e):
    return {p["name"]: p["verdict"] for p in e["parts"]}


def test_registered_ids_and_kinds():
    assert set(rules.CHAPTER_30) == {
        "hrs.v16_prepend_leaks",
        "hrs.v18_cross_attention_fixes",
        "hrs.fix_is_cross_attention",
        "hrs.v18_engram_informative",
    }
    assert rules.FIX_IS_CROSS_ATTENTION.kind == "audit" and rules.V18_ENGRAM_INFORMATIVE.kind == "identity"
    assert rules.DELTA_LEAK == pytest.approx(0.01)


def test_a_leaking_trained_v16_is_supported_and_v18_fixes_by_construction():
    m = _metrics()
    v16 = judge(rules.V16_PREPEND_LEAKS, m)
    assert v16["verdict"] == "SUPPORTED" and _parts(v16) == {"leak": "SUPPORTED", "degrades": "SUPPORTED"}
    v18 = judge(rules.V18_CROSS_ATTENTION_FIXES, m)
    assert _parts(v18) == {"causal": "SUPPORTED", "quality": "SUPPORTED"}
    assert judge(rules.FIX_IS_CROSS_ATTENTION, m)["verdict"] == "REFUTED"
    assert judge(rules.V18_ENGRAM_INFORMATIVE, m)["verdict"] == "REFUTED"  # false by construction


def test_bigram_level_models_make_the_measured_parts_untestable():
    leak_hurts = judge(rules.V16_PREPEND_LEAKS, _metrics(trigram_minus_v16_past_loss=[-0.3] * SEEDS))
    assert leak_hurts["verdict"] == "SUPPORTED", "V16's degraded leak-free loss is the effect, not the control"
    m = _metrics(trigram_minus_none_loss=[-0.3] * SEEDS)
    assert set(_parts(judge(rules.V16_PREPEND_LEAKS, m)).values()) == {"UNTESTABLE"}
    v18 = _parts(judge(rules.V18_CROSS_ATTENTION_FIXES, m))
    assert v18 == {"causal": "SUPPORTED", "quality": "UNTESTABLE"}


def test_a_probe_that_misses_the_planted_leak_decides_nothing():
    m = _metrics(probe_prepend_self=[0.0] * SEEDS)
    assert judge(rules.FIX_IS_CROSS_ATTENTION, m)["verdict"] == "UNTESTABLE"
    assert _parts(judge(rules.V18_CROSS_ATTENTION_FIXES, m))["causal"] == "UNTESTABLE"


def test_a_text_dependent_engram_would_make_the_identity_true():
    m = _metrics(v18_shuffle_sensitivity=[0.01] * SEEDS, xattn_spread_xattn_ema_layer1=[0.3] * SEEDS)
    assert judge(rules.V18_ENGRAM_INFORMATIVE, m)["verdict"] == "SUPPORTED"
