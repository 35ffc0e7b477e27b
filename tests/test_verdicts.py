"""Protocol-2 decision table (book/method.md §3.4), the legacy templates, rule hashing and rendering."""

import dataclasses
import hashlib
import math

import pytest

from memnb import stats
from memnb.verdicts import (
    CHECK_FALSE,
    CHECK_TRUE,
    Check,
    Control,
    Design,
    Rule,
    claims_table,
    clause,
    diff,
    judge,
    judge_all,
    measure,
    rules_markdown,
)
from memnb.verdicts.templates import all_or_none_seeds, all_seeds_beyond, check, compound, equivalence_margin, gate

CONTROL = Control(measure("oracle_minus_floor"), ">", 0.10, "the oracle beats the floor by 10 points")
GOOD = {"oracle_minus_floor": [0.5, 0.6, 0.55]}
BAD = {"oracle_minus_floor": [0.5, 0.02, 0.55]}


def metrics(d, ctl=GOOD, **extra):
    """Arms ``a`` and ``b`` whose per-seed differences are ``d``."""
    b = [0.3 + 0.01 * i for i in range(len(d))]
    return {"a": [x + y for x, y in zip(d, b, strict=True)], "b": b, **ctl, **extra}


def greater(delta=0.05, **kw):
    return Rule(
        id="t.greater",
        direction="greater",
        measure=diff("a", "b", units="accuracy"),
        control=CONTROL,
        delta=delta,
        delta_why="half the seed's claimed gain",
        seed_says="A beats B by 0.10",
        **kw,
    )


def bound(b=0.15, **kw):
    return Rule(
        id="t.bound",
        direction="bound",
        measure=measure("err", units="relative error"),
        control=CONTROL,
        bound=b,
        bound_why="the seed's invariant",
        **kw,
    )


def equivalent(delta=0.05):
    return Rule(
        id="t.equiv",
        direction="equivalent",
        measure=diff("a", "b", units="nats"),
        control=CONTROL,
        delta=delta,
        delta_why="smallest gain the seed would call a gain",
    )


def prop(happens=False):
    return Rule(
        id="t.prop",
        kind="audit",
        direction="property",
        measure=measure("leak"),
        tolerance=1e-6,
        happens=happens,
        control=Control(measure("planted"), ">", 1e-6, "the probe detects a planted leak"),
    )


# --- directional ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("d", "expected", "smaller"),
    [
        ([0.10, 0.12, 0.11], "SUPPORTED", False),
        ([0.010, 0.012, 0.011], "REFUTED", True),  # real (lo > 0) but smaller than δ
        ([-0.10, -0.12, -0.11], "REFUTED", False),
        ([0.10, -0.05, 0.20], "INCONCLUSIVE", False),
    ],
)
def test_greater(d, expected, smaller):
    e = judge(greater(), metrics(d))
    iv = stats.t_interval([x - 0 for x in d])
    assert e["verdict"] == expected
    assert e["effect"]["ci95"] == pytest.approx([iv.lo, iv.hi], abs=1e-6)
    assert e["effect"]["n"] == 3 and e["effect"]["design"] == "paired"
    assert bool(e.get("smaller_than_delta")) is smaller
    if smaller:
        assert e["note"] == "real but smaller than δ"
    assert e["control"]["passed"] is True


@pytest.mark.parametrize("d", [[0.10, 0.12, 0.11], [0.010, 0.012, 0.011], [-0.1, -0.12, -0.11], [0.1, -0.05, 0.2]])
def test_greater_control_fails_untestable(d):
    e = judge(greater(), metrics(d, BAD))
    assert e["verdict"] == "UNTESTABLE"
    assert e["control"]["passed"] is False and "0.02" in e["control"]["measured"]
    assert "smaller_than_delta" not in e
    assert e["effect"]["n"] == 3  # Δ is still reported


def test_greater_ci_reaching_delta_only_at_hi():
    # lo > 0 and hi >= δ: SUPPORTED even though the mean is below δ
    e = judge(greater(delta=0.05), metrics([0.025, 0.045, 0.035]))
    lo, hi = e["effect"]["ci95"]
    assert lo > 0 and hi >= 0.05 and e["effect"]["estimate"] < 0.05
    assert e["verdict"] == "SUPPORTED"


# --- bound ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("err", "expected"),
    [([0.05, 0.06, 0.055], "SUPPORTED"), ([0.30, 0.31, 0.29], "REFUTED"), ([0.10, 0.20, 0.15], "INCONCLUSIVE")],
)
def test_bound(err, expected):
    e = judge(bound(), {"err": err, **GOOD})
    assert e["verdict"] == expected and e["bound"] == 0.15 and e["direction"] == "bound"
    assert judge(bound(), {"err": err, **BAD})["verdict"] == "UNTESTABLE"


# --- equivalence ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("d", "expected"),
    [
        ([0.001, -0.002, 0.0], "SUPPORTED"),
        ([0.20, 0.21, 0.19], "REFUTED"),  # lo >= δ
        ([-0.20, -0.21, -0.19], "REFUTED"),  # hi <= -δ
        ([0.03, 0.06, 0.04], "INCONCLUSIVE"),
    ],
)
def test_equivalent(d, expected):
    assert judge(equivalent(), metrics(d))["verdict"] == expected
    assert judge(equivalent(), metrics(d, BAD))["verdict"] == "UNTESTABLE"


# --- property ------------------------------------------------------------------------------------
PLANTED = {"planted": [1.0, 1.0, 1.0]}


def test_property_never_happens():
    assert judge(prop(), {"leak": [0.0, 0.0, 0.0], **PLANTED})["verdict"] == "SUPPORTED"
    e = judge(prop(), {"leak": [0.0, 0.5, 0.0], **PLANTED})  # one planted violation on one seed
    assert e["verdict"] == "REFUTED"
    assert e["effect"]["occurrences"] == 1 and e["effect"]["ci95"] is None
    assert judge(prop(), {"leak": [0.0, 5e-7, 0.0], **PLANTED})["verdict"] == "SUPPORTED"  # within tolerance


def test_property_happens():
    assert judge(prop(happens=True), {"leak": [0.0, 0.5, 0.0], **PLANTED})["verdict"] == "SUPPORTED"
    assert judge(prop(happens=True), {"leak": [0.0, 0.0, 0.0], **PLANTED})["verdict"] == "REFUTED"


@pytest.mark.parametrize("happens", [False, True])
def test_property_control_misses_the_planted_violation(happens):
    e = judge(prop(happens), {"leak": [0.0, 0.5, 0.0], "planted": [1.0, 0.0, 1.0]})
    assert e["verdict"] == "UNTESTABLE"


# --- interval details ----------------------------------------------------------------------------
def test_zero_variance_delta_ci_is_the_value():
    e = judge(greater(), {"a": [0.3, 0.4, 0.5], "b": [0.2, 0.3, 0.4], **GOOD})  # Δ = 0.1 on every seed
    assert e["effect"]["ci95"] == [0.1, 0.1] and e["effect"]["estimate"] == 0.1
    assert e["effect"]["mde"] == 0.0 and e["underpowered"] is False
    assert e["verdict"] == "SUPPORTED"


def test_underpowered_flag_mde_above_delta():
    d = [0.0, 0.2, 0.1]
    e = judge(greater(delta=0.05), metrics(d))
    se = stats.t_interval(d).se
    assert e["effect"]["mde"] == pytest.approx((stats.sps.t.ppf(0.975, 2) + stats.sps.t.ppf(0.8, 2)) * se, abs=1e-6)
    assert e["underpowered"] is True
    assert judge(greater(delta=0.05), metrics([0.10, 0.12, 0.11]))["underpowered"] is False


def test_fewer_seeds_than_the_design_is_inconclusive():
    e = judge(greater(design=Design(n_min=5)), metrics([0.10, 0.12, 0.11]))
    assert e["verdict"] == "INCONCLUSIVE" and "fewer than" in e["note"]
    assert judge(greater(), metrics([0.5]))["verdict"] == "INCONCLUSIVE"  # one seed: no CI


def test_unpaired_design_uses_welch():
    a, b = [0.61, 0.72, 0.55, 0.68], [0.40, 0.45, 0.42]
    e = judge(greater(design=Design(paired=False)), {"a": a, "b": b, **GOOD})
    ref = stats.sps.ttest_ind(a, b, equal_var=False).confidence_interval()
    assert e["effect"]["ci95"] == pytest.approx([ref.low, ref.high], abs=1e-6)
    assert e["effect"]["design"] == "unpaired (Welch)" and e["verdict"] == "SUPPORTED"


def test_bootstrap_design_reads_per_example_values():
    per_seed = [[0.1, 0.2, 0.15, 0.12], [0.11, 0.18, 0.2], [0.09, 0.14, 0.16, 0.1, 0.13]]
    m = {"a": {"values": [sum(g) / len(g) for g in per_seed], "examples": per_seed}, **GOOD}
    r = Rule(
        id="t.boot",
        measure=measure("a"),
        control=CONTROL,
        delta=0.05,
        delta_why="x",
        design=Design(interval="bootstrap", n_boot=2000, boot_seed=3),
    )
    e1, e2 = judge(r, m), judge(r, m)
    assert e1 == e2 and e1["effect"]["design"] == "bootstrap over seeds × examples"
    iv = stats.bootstrap_interval(per_seed, n_boot=2000, seed=3)
    assert e1["effect"]["ci95"] == pytest.approx([iv.lo, iv.hi], abs=1e-6)
    assert e1["verdict"] == "SUPPORTED"


# --- compound ------------------------------------------------------------------------------------
def _compound(*parts):
    return Rule(id="t.compound", parts=tuple(parts), seed_says="improves accuracy and OOD")


def test_compound_takes_the_weakest_part():
    g, b = ("accuracy", greater()), ("error", bound())
    m = {**metrics([0.10, 0.12, 0.11]), "err": [0.05, 0.06, 0.055]}
    e = judge(_compound(g, b), m)
    assert e["verdict"] == "SUPPORTED" and [p["verdict"] for p in e["parts"]] == ["SUPPORTED", "SUPPORTED"]
    m["err"] = [0.10, 0.20, 0.15]
    e = judge(_compound(g, b), m)
    assert e["verdict"] == "INCONCLUSIVE" and e["weakest_part"] == "error"
    assert "weakest part's verdict (error)" in e["we_measured"]
    assert e["bound"] == 0.15 and e["effect"] == e["parts"][1]["effect"]
    assert e["direction"] == "bound"  # the entry's effect, bound and direction are the weakest part's
    m["err"] = [0.30, 0.31, 0.29]
    assert judge(_compound(g, b), m)["verdict"] == "REFUTED"


def test_compound_order_refuted_untestable_inconclusive():
    ctl_bad = Control(measure("bad"), ">", 1.0, "never passes")
    untestable = ("u", dataclasses.replace(bound(), id="u", control=ctl_bad))
    m = {**metrics([0.10, -0.05, 0.20]), "err": [0.30, 0.31, 0.29], "bad": [0.0, 0.0, 0.0]}
    assert judge(_compound(("g", greater()), untestable), m)["verdict"] == "UNTESTABLE"  # I and U -> U
    assert judge(_compound(("e", bound()), untestable), m)["verdict"] == "REFUTED"  # R and U -> R


# --- best of K with Holm -------------------------------------------------------------------------
def _best_of(*names):
    return Rule(
        id="t.best",
        comparisons=tuple(diff("best", n) for n in names),
        control=CONTROL,
        delta=0.02,
        delta_why="two points",
    )


def test_best_of_k_holm_widens_the_intervals():
    best = [0.8, 0.8, 0.8]
    m = {
        "best": best,
        "x": [0.30, 0.29, 0.28],  # far behind: tiny p
        "y": [0.73, 0.67, 0.70],  # best − y = 0.07, 0.13, 0.10: t = 5.8, p ≈ 0.014
        "z": [0.73, 0.67, 0.70],
        **GOOD,
    }
    alone = judge(_best_of("y"), m)  # K = 1: the plain 95% CI, lo > 0
    assert alone["verdict"] == "SUPPORTED" and alone["comparisons"][0]["effect"]["ci_level"] == 0.95
    e = judge(_best_of("x", "y", "z"), m)
    levels = [c["effect"]["ci_level"] for c in e["comparisons"]]
    assert levels == pytest.approx([1 - 2 * 0.025 / 3, 1 - 0.025, 1 - 0.025])
    assert [c["verdict"] for c in e["comparisons"]] == ["SUPPORTED", "INCONCLUSIVE", "INCONCLUSIVE"]
    assert e["verdict"] == "INCONCLUSIVE"
    assert e["comparisons"][1]["p_holm"] == pytest.approx(stats.holm([c["p_one_sided"] for c in e["comparisons"]])[1])


def test_best_of_k_refuted_when_one_comparison_loses():
    m = {"best": [0.8, 0.8, 0.8], "x": [0.3, 0.29, 0.28], "y": [0.9, 0.91, 0.92], **GOOD}
    assert judge(_best_of("x", "y"), m)["verdict"] == "REFUTED"


# --- identity checks -----------------------------------------------------------------------------
def test_identity_check():
    r = Rule(
        id="t.identity",
        kind="identity",
        direction="check",
        checks=(Check(measure("tau"), "near", 0.21, tol=0.10, relative=True),),
    )
    assert judge(r, {"tau": [0.20, 0.22]})["verdict"] == CHECK_TRUE
    e = judge(r, {"tau": [0.20, 0.24]})
    assert e["verdict"] == CHECK_FALSE and "fails on 1 of 2" in e["we_measured"]
    assert e["kind"] == "identity" and e["control"] is None


# --- validation ----------------------------------------------------------------------------------
def test_protocol_2_rules_must_be_complete():
    with pytest.raises(ValueError, match="delta"):
        Rule(id="x", measure=measure("a"), control=CONTROL)
    with pytest.raises(ValueError, match="control"):
        Rule(id="x", measure=measure("a"), delta=0.1, delta_why="y")
    with pytest.raises(ValueError, match="bound"):
        Rule(id="x", direction="bound", measure=measure("a"), control=CONTROL)
    with pytest.raises(ValueError, match="identity"):
        Rule(id="x", direction="check", checks=(check("a", ">", 0),))
    with pytest.raises(ValueError, match="unknown parts"):
        compound("x", {"a": all_seeds_beyond("a", "m")}, "decision", supported_if=[clause(b="SUPPORTED")])
    with pytest.raises(ValueError, match="decision"):
        compound("x", {"a": all_seeds_beyond("a", "m")}, "all", supported_if=[clause(a="SUPPORTED")])


def test_missing_metric_is_an_error():
    with pytest.raises(KeyError, match="'a'"):
        judge(greater(), {"b": [1, 2, 3], **GOOD})


# --- hashing and rendering -----------------------------------------------------------------------
def test_rule_hash_is_stable_and_tracks_the_data():
    assert greater().rule_hash() == greater().rule_hash()
    assert greater().rule_hash() == hashlib.sha256(greater().canonical_json().encode()).hexdigest()
    assert greater(delta=0.05).rule_hash() != greater(delta=0.06).rule_hash()
    assert greater().rule_hash() != greater(design=Design(n_min=5)).rule_hash()
    assert '"delta":0.05' in greater().canonical_json()
    # pinned: the canonical form is part of the registration contract (a change re-registers every rule)
    assert all_seeds_beyond("t.pinned", "x", 0.02).rule_hash()[:16] == PINNED


PINNED = "b2ce11166534aa9f"


def test_markdown_states_delta_control_and_decision():
    md = greater().markdown()
    assert "**`t.greater`**" in md
    assert "δ = 0.05 accuracy: half the seed's claimed gain" in md
    assert "Positive control: the oracle beats the floor by 10 points" in md and "UNTESTABLE" in md
    assert "SUPPORTED if lo > 0 and hi ≥ δ = 0.05" in md and "REFUTED if hi < δ" in md
    assert "MDE" in md and "paired" in md
    assert "A beats B by 0.10" in md
    assert "b = 0.15" in bound().markdown() and "TOST" in equivalent().markdown()
    assert "one violation" in prop().markdown()
    s = greater().sentence()
    assert "\n" not in s and "**" not in s and "δ = 0.05" in s


# --- legacy templates (protocol 1) ---------------------------------------------------------------
@pytest.mark.parametrize("values", [[0.30, 0.32, 0.31], [-0.3, -0.32, -0.31], [0.3, -0.01, 0.31], [0.5]])
@pytest.mark.parametrize(("threshold", "side"), [(0.0, "above"), (0.2, "above"), (0.31, "below")])
def test_all_seeds_beyond_is_stats_verdict(values, threshold, side):
    e = judge(all_seeds_beyond("t", "x", threshold, side), {"x": values})
    shifted = [v - threshold for v in values] if side == "above" else [threshold - v for v in values]
    assert e["verdict"] == stats.verdict(shifted)
    assert e["protocol"] == 1 and e["template"] == "all_seeds_beyond"


@pytest.mark.parametrize(
    ("x", "expected"), [([0.5, 0.6, 0.3], "SUPPORTED"), ([0.1, 0.9, 0.8], "REFUTED"), ([0.5, 0.9, 0.3], "INCONCLUSIVE")]
)
def test_all_or_none_seeds(x, expected):
    r = all_or_none_seeds("t", check("x", "between", 0.2, 0.7), check("y", "<=", 1.0))
    assert judge(r, {"x": x, "y": 0.5})["verdict"] == expected  # a scalar check broadcasts over seeds


@pytest.mark.parametrize(
    ("g", "expected"),
    [([0.001, -0.002, 0.003], "SUPPORTED"), ([0.10, 0.11, 0.12], "REFUTED"), ([0.001, 0.05, -0.01], "INCONCLUSIVE")],
)
def test_equivalence_margin(g, expected):
    assert judge(equivalence_margin("t", "g", 0.02), {"g": g})["verdict"] == expected


POS, NEG, MIX = [0.3, 0.32, 0.31], [-0.3, -0.32, -0.31], [0.3, -0.01, 0.31]


@pytest.mark.parametrize(
    ("combine", "a", "b", "expected"),
    [
        ("all", POS, POS, "SUPPORTED"),
        ("all", POS, MIX, "INCONCLUSIVE"),
        ("all", POS, NEG, "REFUTED"),
        ("any", POS, NEG, "SUPPORTED"),
        ("any", NEG, NEG, "REFUTED"),
        ("any", MIX, NEG, "INCONCLUSIVE"),
        ("unanimous", NEG, NEG, "REFUTED"),
        ("unanimous", POS, NEG, "INCONCLUSIVE"),
        ("unanimous", MIX, MIX, "INCONCLUSIVE"),
    ],
)
def test_legacy_combine(combine, a, b, expected):
    r = compound("t", {"a": all_seeds_beyond("a", "a"), "b": all_seeds_beyond("b", "b")}, combine)
    assert judge(r, {"a": a, "b": b})["verdict"] == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(POS, NEG, "SUPPORTED"), (NEG, POS, "REFUTED"), (NEG, MIX, "INCONCLUSIVE"), (MIX, POS, "INCONCLUSIVE")],
)
def test_legacy_decision_list(a, b, expected):
    # SUPPORTED iff a is; REFUTED iff a is REFUTED and b SUPPORTED (e.g. a power condition)
    r = compound(
        "t",
        {"a": all_seeds_beyond("a", "a"), "b": all_seeds_beyond("b", "b")},
        "decision",
        supported_if=[clause(a="SUPPORTED")],
        refuted_if=[clause(a="REFUTED", b="SUPPORTED")],
    )
    assert judge(r, {"a": a, "b": b})["verdict"] == expected
    assert "SUPPORTED if (a is SUPPORTED)" in r.markdown()


def test_legacy_gate_makes_a_part_inconclusive():
    g = gate("floor", ">", 0.05, "the better arm has learned")
    r = all_seeds_beyond("t", "x", 0.0, gate=g)
    assert judge(r, {"x": POS, "floor": [0.2, 0.3, 0.25]})["verdict"] == "SUPPORTED"
    e = judge(r, {"x": POS, "floor": [0.2, 0.01, 0.25]})
    assert e["verdict"] == "INCONCLUSIVE" and e["control"]["passed"] is False
    assert "Gate:" in r.markdown()


# --- API -----------------------------------------------------------------------------------------
def _identity():
    return Rule(id="t.identity", kind="identity", direction="check", checks=(check("tau", ">", 0),))


def test_rules_markdown_and_judge_all_and_table():
    rules = {r.id: r for r in (_identity(), greater(), bound())}
    md = rules_markdown(rules, title="Rules, registered before the run")
    assert md.index("t.greater") < md.index("t.bound") < md.index("t.identity")  # identities after findings
    assert md.startswith("### Rules, registered before the run")
    assert f"`{greater().rule_hash()[:12]}`" in md
    m = {**metrics([0.10, 0.12, 0.11]), "err": [0.05, 0.06, 0.055], "tau": [0.2]}
    entries = judge_all(rules, m)
    assert [e["id"] for e in entries] == ["t.identity", "t.greater", "t.bound"]
    df = claims_table(entries)
    assert list(df.index) == ["t.greater", "t.bound", "t.identity"]
    assert list(df["group"]) == ["finding", "finding", "identity"]
    assert df.loc["t.greater", "verdict"] == "SUPPORTED" and df.loc["t.identity", "verdict"] == CHECK_TRUE
    with pytest.raises(ValueError, match="differs"):
        judge_all({"wrong": greater()}, m)


def test_schema_2_entry_fields():
    """What ``check_results.py`` asks of a schema-2 seed/audit claim."""
    e = judge(greater(), metrics([0.10, 0.12, 0.11]))
    for key in ("id", "verdict", "kind", "direction", "effect", "delta", "bound", "underpowered", "control"):
        assert key in e
    assert e["seed_says"] and e["we_measured"] and e["rule"] and len(e["rule_hash"]) == 64
    assert e["control"]["measured"] and isinstance(e["effect"]["ci95"], list) and e["effect"]["n"] == 3
    assert e["delta"] > 0 and e["evidence"] == ["a", "b", "oracle_minus_floor"]
    assert not math.isnan(e["effect"]["mde"])
