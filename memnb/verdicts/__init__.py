"""Claims judged by rules written as data (book/method.md §3, protocol 2).

A chapter registers its rules before the run (a ``RULES`` dict in a results-free file such as
``memnb/drex/rules.py``), shows them with ``rules_markdown(RULES)``, and after the run turns its
metrics into claim entries with ``judge_all(RULES, metrics)``::

    from memnb.verdicts import claims_table, judge_all, rules_markdown
    from memnb.drex.rules import RULES

    display(Markdown(rules_markdown(RULES)))        # "Rules, registered before the run"
    ...                                              # the run records ch.metrics
    entries = judge_all(RULES, ch.metrics)           # schema-2 claim entries
    claims_table(entries)                            # a DataFrame for display

Modules: ``rule`` (the data), ``engine`` (the decision table, ``judge``), ``legacy`` (protocol-1
templates, so published verdicts stay reproducible), ``read`` (metrics → per-seed series),
``render`` (text). Imports only ``memnb.stats``, numpy and scipy (pandas inside ``claims_table``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from memnb.verdicts.engine import judge
from memnb.verdicts.rule import (
    CHECK_FALSE,
    CHECK_TRUE,
    CHECK_VERDICTS,
    VERDICTS,
    Check,
    Clause,
    Control,
    Design,
    Measure,
    Rule,
    clause,
    diff,
    measure,
)

Rules = Mapping[str, Rule] | Iterable[Rule]


def _rules(rules: Rules) -> list[Rule]:
    if isinstance(rules, Mapping):
        out = []
        for key, r in rules.items():
            if key != r.id:
                raise ValueError(f"rules dict key {key!r} differs from the rule's id {r.id!r}")
            out.append(r)
        return out
    return list(rules)


def rules_markdown(rules: Rules, title: str | None = None) -> str:
    """Markdown for a chapter's "Rules, registered before the run" cell: one block per rule,
    each with its hash prefix, findings first and identities (checks) after."""
    rs = _rules(rules)
    findings = [r for r in rs if r.kind != "identity"]
    identities = [r for r in rs if r.kind == "identity"]
    blocks = [f"### {title}"] if title else []
    for r in findings + identities:
        blocks.append(r.markdown() + f"\n- Rule hash: `{r.rule_hash()[:12]}`")
    return "\n\n".join(blocks) + "\n"


def judge_all(rules: Rules, metrics: Mapping[str, Any]) -> list[dict]:
    """One claim entry per rule, in the rules' order (``engine.judge``)."""
    return [judge(r, metrics) for r in _rules(rules)]


def claims_table(entries: Iterable[dict]):
    """A ``pandas.DataFrame`` of claim entries for display: findings first, identities (checks)
    listed apart after them. Columns: group, verdict, estimate, ci95, δ, bound, n, mde,
    underpowered, control, we_measured; indexed by claim id."""
    import pandas as pd

    rows = []
    for e in entries:
        eff = e.get("effect") or {}
        ctl = e.get("control")
        rows.append(
            {
                "id": e["id"],
                "group": "identity" if e.get("kind") == "identity" else "finding",
                "kind": e.get("kind"),
                "verdict": e["verdict"],
                "estimate": eff.get("estimate"),
                "ci95": eff.get("ci95"),
                "delta": e.get("delta"),
                "bound": e.get("bound"),
                "n": eff.get("n"),
                "mde": eff.get("mde"),
                "underpowered": e.get("underpowered"),
                "control": None if ctl is None else ("passed" if ctl["passed"] else "FAILED"),
                "we_measured": e.get("we_measured", ""),
            }
        )
    df = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["id", "group", "verdict"])
    if rows:
        df["_order"] = (df["group"] == "identity").astype(int)
        df = df.sort_values("_order", kind="stable").drop(columns="_order").set_index("id")
    return df


__all__ = [
    "CHECK_FALSE",
    "CHECK_TRUE",
    "CHECK_VERDICTS",
    "VERDICTS",
    "Check",
    "Clause",
    "Control",
    "Design",
    "Measure",
    "Rule",
    "claims_table",
    "clause",
    "diff",
    "judge",
    "judge_all",
    "measure",
    "rules_markdown",
]
