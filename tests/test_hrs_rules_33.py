"""Chapter 33's protocol-2 rule (hrs.exp_kernel): delta from the seed's numbers, the trigram regime
control, each part directional."""

import pytest

from memnb.hrs import rules
from memnb.verdicts import judge


def test_deltas_are_half_the_seed_numbers():
    assert rules.SEED_LOSS_GAIN == pytest.approx(1.6304 - 1.6129)
    assert rules.SEED_SEPARATION_GAIN == pytest.approx(0.8358 - 0.8021, abs=5e-4)
    assert rules.DELTA_KERNEL_LOSS == pytest.approx(0.017 / 2)
    assert rules.DELTA_KERNEL_SEPARATION == pytest.approx(rules.SEED_SEPARATION_GAIN / 2)
    assert rules.RULES["hrs.exp_kernel"] is rules.EXP_KERNEL and rules.CHAPTER_33 == {
        "hrs.exp_kernel": rules.EXP_KERNEL
    }


def _metrics(d_loss, d_auroc, margin):
    n = len(d_loss)
    return {
        "dot_val_loss": [1.9 + x for x in d_loss],
        "exp_val_loss": [1.9] * n,
        "exp_auroc_play": [0.7 + x for x in d_auroc],
        "dot_auroc_play": [0.7] * n,
        "trigram_minus_dot_val_loss": [margin] * n,
        "trigram_minus_exp_val_loss": [margin] * n,
    }


def _parts(entry):
    return {p["name"]: p["verdict"] for p in entry["parts"]}


def test_a_large_effect_is_supported_and_a_null_refuted():
    big = judge(rules.EXP_KERNEL, _metrics([0.03, 0.031, 0.029, 0.030], [0.05, 0.051, 0.049, 0.05], 0.1))
    assert big["verdict"] == "SUPPORTED" and _parts(big) == {"loss": "SUPPORTED", "separation": "SUPPORTED"}
    null = judge(rules.EXP_KERNEL, _metrics([0.001, -0.001, 0.0, 0.0005], [0.05, 0.051, 0.049, 0.05], 0.1))
    assert null["verdict"] == "REFUTED" and _parts(null)["loss"] == "REFUTED"


def test_bigram_level_models_are_untestable():
    e = judge(rules.EXP_KERNEL, _metrics([0.03, 0.031, 0.029, 0.030], [0.05, 0.051, 0.049, 0.05], -0.02))
    assert e["verdict"] == "UNTESTABLE" and set(_parts(e).values()) == {"UNTESTABLE"}
