"""Judging a claim: ``judge(rule, metrics) -> claim entry`` (results schema 2, book/method.md §1).

Protocol 2 decision table, from the 95% CI [lo, hi] of Δ over seeds (``Design``: a t-interval of
the per-seed paired differences, a Welch interval for unpaired arms, or a bootstrap over seeds ×
examples; when every seed gives the same Δ the CI is that value):

- positive control fails → **UNTESTABLE** (whatever Δ says; Δ is still reported);
- fewer seeds than ``design.n_min`` → INCONCLUSIVE (noted);
- ``greater`` ("A beats B"): SUPPORTED if lo > 0 and hi ≥ δ; REFUTED if hi < δ (flagged "real but
  smaller than δ" when lo > 0 too); INCONCLUSIVE otherwise;
- ``bound`` (Δ ≤ b): SUPPORTED if hi ≤ b; REFUTED if lo > b; INCONCLUSIVE otherwise;
- ``equivalent`` (|Δ| < δ, TOST at 2.5% a side): SUPPORTED if −δ < lo and hi < δ; REFUTED if
  lo ≥ δ or hi ≤ −δ; INCONCLUSIVE otherwise;
- ``property``: an occurrence on a seed is ``|x| > tolerance``. "Never happens": REFUTED by one
  occurrence on any seed, SUPPORTED when none; "happens": SUPPORTED by one, REFUTED when none. No CI;
- compound: each part judged by its own rule; the claim's verdict is the weakest part's
  (REFUTED < UNTESTABLE < INCONCLUSIVE < SUPPORTED), stated as such;
  ``combine="tested"`` (a claim about the members that qualify, e.g. "the winning variants cost
  at most 2×": each part's control says whether its member qualifies): the weakest of the parts
  whose control passed; UNTESTABLE when none did;
- best-of-K: K registered paired comparisons (best − other k), one-sided p-values Holm-corrected
  at α/2 per side (``stats.holm_levels``); comparison k is decided as ``greater`` on its CI at
  level 1 − 2·α_k (95% when K = 1); the claim takes the weakest comparison;
- identity (``check``): SUPPORTED (true by construction) if every check holds on every seed,
  REFUTED (false by construction) otherwise.
  Identities are checked, not judged: the ledger lists them apart from the findings.

Power: MDE = (t_{0.975,n−1} + t_{0.80,n−1}) × SE of the design; a claim whose MDE exceeds δ is
flagged ``underpowered`` whatever its verdict.

Protocol-1 rules are decided by ``memnb.verdicts.legacy`` (their published verdicts stay
reproducible); their entries carry the same fields where they apply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from memnb import stats
from memnb.verdicts import legacy, read
from memnb.verdicts.rule import CHECK_FALSE, CHECK_TRUE, Control, Measure, Rule

SMALLER_THAN_DELTA = "real but smaller than δ"


# --- formatting ------------------------------------------------------------------------------
def num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.4g}"


def _values_text(x: np.ndarray) -> str:
    if x.size == 1:
        return num(float(x[0]))
    iv = stats.t_interval(x)
    ci = f" [{num(iv.lo)}, {num(iv.hi)}]" if iv.lo is not None else ""
    return f"{num(iv.estimate)}{ci} (n={x.size}; per seed {', '.join(num(float(v)) for v in x)})"


def _round(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), digits)


# --- the positive control --------------------------------------------------------------------
_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


def control_result(c: Control, metrics: Mapping[str, Any]) -> dict:
    """``{"passed", "rule", "measured"}`` of a positive control (see ``Control``)."""
    x = read.series(metrics, c.measure)
    op = _OPS[c.op]
    if c.on == "every_seed":
        passed = bool(op(x, c.threshold).all())
    elif c.on == "mean":
        passed = bool(op(x.mean(), c.threshold))
    elif c.on == "ci":
        iv = stats.t_interval(x)
        edge = iv.lo if c.op in (">", ">=") else iv.hi
        passed = edge is not None and bool(op(edge, c.threshold))
    else:  # every_seed_and_ci: memnb.stats.verdict (protocol 1)
        passed = legacy.beyond(x, c.threshold, "above" if c.op in (">", ">=") else "below") == "SUPPORTED"
    return {"passed": passed, "rule": c.text(), "measured": f"{c.measure.text()} = {_values_text(x)}"}


# --- intervals -------------------------------------------------------------------------------
def interval(rule: Rule, m: Measure, metrics: Mapping[str, Any], level: float = 0.95) -> stats.Interval:
    """Δ's interval under the rule's design."""
    d = rule.design
    if d.interval == "bootstrap":
        return stats.bootstrap_interval(read.examples(metrics, m), level=level, n_boot=d.n_boot, seed=d.boot_seed)
    if not d.paired:
        return stats.welch_interval(*read.arms(metrics, m), level=level)
    return stats.t_interval(read.series(metrics, m), level)


def decide(direction: str, lo: float | None, hi: float | None, delta: float | None, bound: float | None) -> str:
    """The protocol-2 decision table for CI-based directions (see the module docstring)."""
    if lo is None or hi is None:
        return "INCONCLUSIVE"
    if direction == "greater":
        if lo > 0 and hi >= delta:
            return "SUPPORTED"
        return "REFUTED" if hi < delta else "INCONCLUSIVE"
    if direction == "bound":
        if hi <= bound:
            return "SUPPORTED"
        return "REFUTED" if lo > bound else "INCONCLUSIVE"
    if direction == "equivalent":
        if -delta < lo and hi < delta:
            return "SUPPORTED"
        return "REFUTED" if (lo >= delta or hi <= -delta) else "INCONCLUSIVE"
    raise ValueError(f"no CI decision for direction {direction!r}")


def _design_text(rule: Rule) -> str:
    d = rule.design
    if d.interval == "bootstrap":
        return "bootstrap over seeds × examples"
    if not d.paired:
        return "unpaired (Welch)"
    return "paired"


def _effect(rule: Rule, iv: stats.Interval) -> dict:
    m = stats.mde(iv.se, iv.df)
    return {
        "estimate": _round(iv.estimate),
        "ci95": None if iv.lo is None else [_round(iv.lo), _round(iv.hi)],
        "n": iv.n,
        "design": _design_text(rule),
        "mde": _round(m),
    }


def _underpowered(effect: dict | None, delta: float | None) -> bool | None:
    if effect is None or delta is None or effect.get("mde") is None:
        return None
    return bool(effect["mde"] > delta)


# --- entries ---------------------------------------------------------------------------------
def _entry(rule: Rule, verdict: str, we_measured: str, **fields: Any) -> dict:
    entry = {
        "id": rule.id,
        "verdict": verdict,
        "kind": rule.kind,
        "direction": rule.direction,
        "protocol": rule.protocol,
        "seed_says": rule.seed_says,
        "we_measured": we_measured,
        "rule": rule.sentence(),
        "rule_hash": rule.rule_hash(),
        "evidence": rule.metric_names(),
        "effect": None,
        "delta": rule.delta,
        "bound": rule.bound,
        "underpowered": None,
        "control": None,
    }
    if rule.protocol == 1:
        entry["template"] = rule.template
    entry.update(fields)
    return entry


def judge(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    """The claim entry of ``rule`` applied to ``metrics`` (a chapter's published ``metrics``, or a
    mapping of metric name to per-seed values)."""
    if rule.protocol == 1:
        return _judge_p1(rule, metrics)
    if rule.direction == "check":
        return _judge_check(rule, metrics)
    if rule.parts:
        return _judge_compound(rule, metrics)
    control = control_result(rule.control, metrics)
    if rule.comparisons:
        entry = _judge_best_of_k(rule, metrics)
    elif rule.direction == "property":
        entry = _judge_property(rule, metrics)
    else:
        entry = _judge_interval(rule, metrics)
    entry["control"] = control
    entry["we_measured"] += f"; control: {control['measured']} ({'passed' if control['passed'] else 'FAILED'})"
    if not control["passed"]:
        entry["verdict"] = "UNTESTABLE"
        entry["note"] = "the positive control failed: the setup cannot decide the claim at this scale"
        entry.pop("smaller_than_delta", None)
    return entry


def _too_few(rule: Rule, n: int) -> str | None:
    if n < rule.design.n_min:
        return f"{n} seeds, fewer than the design's {rule.design.n_min}: INCONCLUSIVE"
    return None


def _judge_interval(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    iv = interval(rule, rule.measure, metrics)
    effect = _effect(rule, iv)
    verdict = decide(rule.direction, iv.lo, iv.hi, rule.delta, rule.bound)
    few = _too_few(rule, iv.n)
    fields: dict[str, Any] = {"effect": effect, "underpowered": _underpowered(effect, rule.delta)}
    if few:
        verdict, fields["note"] = "INCONCLUSIVE", few
    if verdict == "REFUTED" and rule.direction == "greater" and iv.lo is not None and iv.lo > 0:
        fields["smaller_than_delta"] = True
        fields["note"] = SMALLER_THAN_DELTA
    units = f" {rule.measure.units}" if rule.measure.units else ""
    ci = f"[{num(iv.lo)}, {num(iv.hi)}]" if iv.lo is not None else "(no CI)"
    ref = f"δ = {num(rule.delta)}" if rule.direction != "bound" else f"b = {num(rule.bound)}"
    text = (
        f"Δ = {rule.measure.text()} = {num(iv.estimate)}{units}, 95% CI {ci}, n={iv.n} ({effect['design']}); "
        f"{ref}, MDE {num(effect['mde'])}"
    )
    return _entry(rule, verdict, text, **fields)


def _judge_property(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    x = read.series(metrics, rule.measure)
    occurs = np.abs(x) > rule.tolerance
    k = int(occurs.sum())
    if rule.happens:
        verdict = "SUPPORTED" if k else "REFUTED"
    else:
        verdict = "REFUTED" if k else "SUPPORTED"
    effect = {
        "estimate": _round(float(np.abs(x).max())),
        "ci95": None,
        "n": int(x.size),
        "design": "per-seed check against the tolerance",
        "mde": None,
        "occurrences": k,
    }
    fields: dict[str, Any] = {"effect": effect, "tolerance": rule.tolerance}
    few = _too_few(rule, int(x.size))
    if few:
        verdict, fields["note"] = "INCONCLUSIVE", few
    text = (
        f"{rule.measure.text()} per seed: {', '.join(num(float(v)) for v in x)}; |x| > {num(rule.tolerance)} "
        f"on {k} of {x.size} seeds"
    )
    return _entry(rule, verdict, text, **fields)


def _judge_best_of_k(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    diffs = [read.series(metrics, m) for m in rule.comparisons]
    p = [stats.one_sided_p(d) for d in diffs]
    levels = stats.holm_levels(p, alpha=rule.alpha / 2)
    p_holm = stats.holm(p)
    rows = []
    for m, lvl, pv, ph in zip(rule.comparisons, levels, p, p_holm, strict=True):
        iv = interval(rule, m, metrics, level=1 - 2 * lvl)
        eff = _effect(rule, iv)
        eff["ci_level"] = _round(1 - 2 * lvl)
        rows.append(
            {
                "comparison": m.text(),
                "verdict": decide("greater", iv.lo, iv.hi, rule.delta, None),
                "effect": eff,
                "p_one_sided": _round(pv),
                "p_holm": _round(ph),
                "lo": iv.lo,
            }
        )
    worst = min(rows, key=lambda r: (legacy.STRENGTH[r["verdict"]], r["lo"] if r["lo"] is not None else -math.inf))
    for r in rows:
        r.pop("lo")
    verdict = worst["verdict"]
    fields: dict[str, Any] = {
        "effect": worst["effect"],
        "underpowered": any(_underpowered(r["effect"], rule.delta) for r in rows),
        "comparisons": rows,
    }
    few = _too_few(rule, worst["effect"]["n"])
    if few:
        verdict, fields["note"] = "INCONCLUSIVE", few
    text = "best of K, Holm-corrected: " + "; ".join(
        f"{r['comparison']} = {num(r['effect']['estimate'])} "
        f"[{num((r['effect']['ci95'] or [None])[0])}, {num((r['effect']['ci95'] or [None, None])[1])}] "
        f"({num(100 * r['effect']['ci_level'])}% CI) → {r['verdict']}"
        for r in rows
    )
    return _entry(rule, verdict, text + f"; the claim takes the weakest: {worst['comparison']}", **fields)


def _judge_compound(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    control = control_result(rule.control, metrics) if rule.control else None
    parts = {name: judge(p, metrics) for name, p in rule.parts}
    pool = parts
    if rule.combine == "tested":
        pool = {n: e for n, e in parts.items() if e["verdict"] != "UNTESTABLE"} or parts
    name = min(pool, key=lambda n: legacy.STRENGTH[pool[n]["verdict"]])
    weakest = parts[name]
    verdict = weakest["verdict"]
    text = "; ".join(f"{n}: {e['we_measured']} → {e['verdict']}" for n, e in parts.items())
    which = "weakest testable part's" if rule.combine == "tested" and pool is not parts else "weakest part's"
    text += f"; the claim takes its {which} verdict ({name})"
    fields: dict[str, Any] = {
        "direction": weakest["direction"],  # the effect, δ and bound shown are the weakest part's: so is its direction
        "effect": weakest["effect"],
        "delta": weakest["delta"],
        "bound": weakest["bound"],
        "underpowered": any(bool(e["underpowered"]) for e in parts.values()),
        "control": control or weakest["control"],
        "parts": [{"name": n, **e} for n, e in parts.items()],
        "weakest_part": name,
    }
    if control is not None:
        text += f"; control: {control['measured']} ({'passed' if control['passed'] else 'FAILED'})"
        if not control["passed"]:
            verdict = "UNTESTABLE"
            fields["note"] = "the positive control failed: the setup cannot decide the claim at this scale"
    return _entry(rule, verdict, text, **fields)


def _judge_check(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    results = [(c, read.check_holds(metrics, c), read.series(metrics, c.measure)) for c in rule.checks]
    ok = all(bool(h.all()) for _, h, _ in results)
    text = "; ".join(
        f"{c.text()}: {_values_text(x)} → {'holds' if h.all() else f'fails on {int((~h).sum())} of {h.size}'}"
        for c, h, x in results
    )
    return _entry(rule, CHECK_TRUE if ok else CHECK_FALSE, text, checks=[c.text() for c in rule.checks])


# --- protocol 1 ------------------------------------------------------------------------------
def _judge_p1(rule: Rule, metrics: Mapping[str, Any]) -> dict:
    fields: dict[str, Any] = {}
    if rule.template == "compound":
        parts = {name: judge(p, metrics) for name, p in rule.parts}
        verdict = legacy.combine(rule, {n: e["verdict"] for n, e in parts.items()})
        fields["parts"] = [{"name": n, **e} for n, e in parts.items()]
        text = "; ".join(f"{n}: {e['we_measured']} → {e['verdict']}" for n, e in parts.items())
    else:
        verdict = legacy.decide(rule, metrics)
        if rule.measure is not None:
            x = read.series(metrics, rule.measure)
            fields["effect"] = _effect(rule, stats.t_interval(x)) | {"design": "protocol 1: per-seed values"}
            text = f"{rule.measure.text()} = {_values_text(x)}"
        else:
            text = "; ".join(f"{c.text()}: {_values_text(read.series(metrics, c.measure))}" for c in rule.checks)
    if rule.control is not None:
        control = control_result(rule.control, metrics)
        fields["control"] = control
        text += f"; gate: {control['measured']} ({'passed' if control['passed'] else 'failed'})"
        if not control["passed"]:
            verdict = "INCONCLUSIVE"
            fields["note"] = "gate failed (protocol 1: INCONCLUSIVE)"
    return _entry(rule, verdict, text, **fields)
