"""Chapter 10's protocol-2 rules (``memnb.drex.rules.CHAPTER_10``) decide synthetic metrics as the
decision table says: the seed's trained protocol is the design, each claim has its control, and
``drex.tau_over_L`` is a check on the closed form's exact values."""

import pytest

from memnb import stats
from memnb.drex import rules, theory
from memnb.verdicts import judge


def _metrics(**over) -> dict:
    m = {f"tau_over_L_adaptive_L{L}": theory.tau_over_L(theory.alpha("adaptive", L), L) for L in rules.TAU_LENGTHS}
    tl = [m[f"tau_over_L_adaptive_L{L}"] for L in rules.TAU_LENGTHS]
    m["tau_over_L_adaptive_rel_halfspread"] = (max(tl) - min(tl)) / 2 / (sum(tl) / len(tl))
    series = {
        "e2e_seed_task_acc": [0.20, 0.19, 0.21, 0.20, 0.20],
        "e2e_seed_task_acc_decoy": [0.20, 0.20, 0.20, 0.21, 0.19],
        "e2e_kv_recall_adaptive_L32": [1.0] * 5,
        "e2e_kv_acc_decoy_adaptive_L32": [0.0] * 5,
        "e2e_kv_recall_memory_removed_L32": [0.03] * 5,
        "e2e_kv_recall_adaptive_Lle32": [1.0] * 5,
        "e2e_kv_recall_fixed_Lle32": [0.45, 0.6, 0.4, 0.5, 0.55],
        "e2e_kv_recall_adaptive_L64": [1.0, 1.0, 0.98, 1.0, 1.0],
        "e2e_kv_recall_adaptive_L96": [0.2, 0.3, 0.25, 0.21, 0.22],
        "e2e_kv_recall_const_eta_L64_96": [1.0] * 5,
        "e2e_kv_recall_adaptive_L64_96": [0.6, 0.65, 0.6, 0.6, 0.61],
    }
    series.update(over)
    return m | {k: stats.summarize(v) for k, v in series.items()}


def _verdicts(metrics: dict) -> dict:
    return {cid: judge(r, metrics)["verdict"] for cid, r in rules.CHAPTER_10.items()}


def test_chapter_10_rules_are_protocol_2_with_controls():
    assert set(rules.CHAPTER_10) == {
        "drex.tau_over_L",
        "drex.recall_task_valid",
        "drex.ema_bootstrap",
        "drex.tau_explains_recall",
    }
    for r in rules.CHAPTER_10.values():
        assert r.protocol == 2
        assert (r.direction == "check") == (r.kind == "identity")
        assert r.kind == "identity" or r.control is not None


def test_decisions_on_synthetic_metrics():
    assert _verdicts(_metrics()) == {
        "drex.tau_over_L": "REFUTED",  # tau/L = 0.236 at L = 16: 12% above 0.21
        "drex.recall_task_valid": "REFUTED",  # accuracy = decoy accuracy
        "drex.ema_bootstrap": "SUPPORTED",  # +0.5 recall
        "drex.tau_explains_recall": "REFUTED",  # L = 96 far below L = 32 at equal tau/L
    }


def test_failed_controls_make_claims_untestable():
    m = _metrics(e2e_kv_recall_adaptive_Lle32=[0.3] * 5, e2e_kv_recall_fixed_Lle32=[0.2, 0.3, 0.25, 0.2, 0.3])
    assert judge(rules.EMA_BOOTSTRAP, m)["verdict"] == "UNTESTABLE"
    m = _metrics(e2e_kv_acc_decoy_adaptive_L32=[0.8] * 5)
    assert judge(rules.RECALL_TASK_VALID, m)["verdict"] == "UNTESTABLE"


@pytest.mark.parametrize(
    ("L96", "eta", "verdict"), [([0.99] * 5, [0.99] * 5, "SUPPORTED"), ([0.9] * 5, [1.0] * 5, "SUPPORTED")]
)
def test_tau_explains_recall_when_recall_holds_at_equal_tau(L96, eta, verdict):
    m = _metrics(e2e_kv_recall_adaptive_L96=L96, e2e_kv_recall_adaptive_L64_96=L96, e2e_kv_recall_const_eta_L64_96=eta)
    assert judge(rules.TAU_EXPLAINS_RECALL, m)["verdict"] == verdict


def test_tau_over_L_is_the_closed_form():
    assert rules.TAU_LENGTHS[0] == 16 and rules.TAU_LENGTHS[-1] == 128
    assert theory.tau_over_L(theory.alpha("adaptive", 96), 96) == pytest.approx(1 / (0.05 * 96))
    assert theory.alpha("const_eta", 96) == pytest.approx(0.95**3) == theory.alpha("adaptive", 32)
