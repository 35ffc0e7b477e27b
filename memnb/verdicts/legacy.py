"""Protocol 1: the book's first verdict rules, as named templates over the published metrics.

Before protocol 2 each chapter judged its claims with hand-written code built on
``memnb.stats.verdict``. These templates restate that code as data, so that a published
protocol-1 verdict can be recomputed from ``results/<profile>/<chapter>.json`` alone:

- ``all_seeds_beyond`` (``memnb.stats.verdict`` of ``x − threshold``, or of ``threshold − x`` when
  ``side="below"``): SUPPORTED if every seed's value and the whole 95% CI of the mean lie beyond
  the threshold on the claimed side; REFUTED if every seed's value and the whole CI lie on the
  other side; INCONCLUSIVE otherwise, and always with one seed;
- ``all_or_none_seeds``: a per-seed condition (the AND of ``checks``) — SUPPORTED if it holds on
  every seed, REFUTED if on none, INCONCLUSIVE if on some (a scalar is one "seed");
- ``equivalence_margin`` (the old ``memnb.memarch.equivalence_verdict``): SUPPORTED if every seed's
  |value| and the whole CI lie inside (−m, m); REFUTED if every value and the whole CI lie above
  +m; INCONCLUSIVE otherwise;
- ``compound``: parts (each a protocol-1 rule) combined by ``combine``:
  ``all`` (SUPPORTED if every part is, REFUTED if any is: the weakest part), ``any`` (SUPPORTED if
  any part is, REFUTED if every part is: the strongest), ``unanimous`` (SUPPORTED or REFUTED only
  if every part says so), or ``decision``: SUPPORTED if one of the ``supported_if`` clauses holds,
  else REFUTED if one of the ``refuted_if`` clauses holds, else INCONCLUSIVE.

A protocol-1 ``control`` is a gate: when it fails the rule (or part) is INCONCLUSIVE — the floor
rule of ReLSM's chapter. (Protocol 2 calls that UNTESTABLE.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from memnb import stats
from memnb.verdicts import read
from memnb.verdicts.rule import Rule

STRENGTH = {"REFUTED": 0, "UNTESTABLE": 1, "INCONCLUSIVE": 2, "SUPPORTED": 3}


def weakest(verdicts: list[str]) -> str:
    """REFUTED < UNTESTABLE < INCONCLUSIVE < SUPPORTED: the weakest (first on ties)."""
    return min(verdicts, key=STRENGTH.__getitem__)


def strongest(verdicts: list[str]) -> str:
    return max(verdicts, key=STRENGTH.__getitem__)


def beyond(values: np.ndarray, threshold: float, side: str = "above") -> str:
    """``memnb.stats.verdict`` of the per-seed values shifted by the threshold."""
    if side == "above":
        return stats.verdict([float(v) - threshold for v in values])
    return stats.verdict([threshold - float(v) for v in values])


def all_or_none(ok: np.ndarray) -> str:
    if ok.all():
        return "SUPPORTED"
    return "REFUTED" if not ok.any() else "INCONCLUSIVE"


def equivalence(values: np.ndarray, margin: float) -> str:
    s = stats.summarize(values)
    if s["ci95"] is None:
        return "INCONCLUSIVE"
    lo, hi = s["ci95"]
    if np.all(np.abs(values) < margin) and -margin < lo and hi < margin:
        return "SUPPORTED"
    if np.all(values > margin) and lo > margin:
        return "REFUTED"
    return "INCONCLUSIVE"


def combine(rule: Rule, part_verdicts: dict[str, str]) -> str:
    """A compound rule's verdict from its parts' (see the module docstring)."""
    vs = list(part_verdicts.values())
    if rule.combine == "all":
        return weakest(vs)
    if rule.combine == "any":
        return strongest(vs)
    if rule.combine == "unanimous":
        return vs[0] if len(set(vs)) == 1 and vs[0] in ("SUPPORTED", "REFUTED") else "INCONCLUSIVE"

    def holds(c) -> bool:
        return all(part_verdicts[name] in allowed for name, allowed in c.requires)

    if any(holds(c) for c in rule.supported_if):
        return "SUPPORTED"
    if any(holds(c) for c in rule.refuted_if):
        return "REFUTED"
    return "INCONCLUSIVE"


def decide(rule: Rule, metrics: Mapping[str, Any]) -> str:
    """The protocol-1 verdict of a rule without its gate (the engine applies the gate)."""
    t = rule.template
    if t == "all_seeds_beyond":
        return beyond(read.series(metrics, rule.measure), rule.threshold, rule.side)
    if t == "all_or_none_seeds":
        return all_or_none(read.checks_hold(metrics, rule.checks))
    if t == "equivalence_margin":
        return equivalence(read.series(metrics, rule.measure), rule.threshold)
    raise ValueError(f"rule {rule.id!r}: template {t!r} is decided part by part (engine.judge)")
