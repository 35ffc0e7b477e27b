"""Builders for protocol-1 rules (the chapters' current rules), one per legacy template.

These only assemble ``Rule`` data; ``memnb.verdicts.legacy`` says what each template decides.
A string where a measure is expected names one metric; ``diff(a, b)`` is the paired ``a − b``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from memnb.verdicts.rule import Check, Clause, Control, Measure, Rule, measure


def check(
    m: str | Measure, op: str, value: float, hi: float | None = None, tol: float | None = None, relative: bool = False
) -> Check:
    """``Check`` of a metric (or measure) against a value; see ``rule.Check``."""
    return Check(measure(m), op, value, hi, tol, relative)


def gate(m: str | Measure, op: str, threshold: float, sentence: str, on: str = "every_seed_and_ci") -> Control:
    """A protocol-1 gate (``Control``): when it fails, the rule or part is INCONCLUSIVE."""
    return Control(measure(m), op, threshold, sentence, on)


def all_seeds_beyond(
    id: str,
    m: str | Measure,
    threshold: float = 0.0,
    side: str = "above",
    *,
    kind: str = "seed",
    direction: str = "greater",
    seed_says: str = "",
    gate: Control | None = None,
    evidence: Iterable[str] = (),
    note: str = "",
) -> Rule:
    """``memnb.stats.verdict`` of ``x − threshold`` (``side="above"``) or ``threshold − x`` (``"below"``)."""
    return Rule(
        id=id,
        kind=kind,
        direction=direction,
        protocol=1,
        template="all_seeds_beyond",
        seed_says=seed_says,
        measure=measure(m),
        threshold=float(threshold),
        side=side,
        control=gate,
        evidence=tuple(evidence),
        note=note,
    )


def all_or_none_seeds(
    id: str,
    *checks: Check,
    kind: str = "seed",
    direction: str = "property",
    seed_says: str = "",
    evidence: Iterable[str] = (),
    note: str = "",
) -> Rule:
    """Per seed, every check holds: SUPPORTED on every seed, REFUTED on none, else INCONCLUSIVE."""
    return Rule(
        id=id,
        kind=kind,
        direction=direction,
        protocol=1,
        template="all_or_none_seeds",
        seed_says=seed_says,
        checks=tuple(checks),
        evidence=tuple(evidence),
        note=note,
    )


def equivalence_margin(
    id: str,
    m: str | Measure,
    margin: float,
    *,
    kind: str = "seed",
    seed_says: str = "",
    evidence: Iterable[str] = (),
    note: str = "",
) -> Rule:
    """The old ``memnb.memarch.equivalence_verdict``: |x| < margin on every seed and over the CI."""
    return Rule(
        id=id,
        kind=kind,
        direction="equivalent",
        protocol=1,
        template="equivalence_margin",
        seed_says=seed_says,
        measure=measure(m),
        threshold=float(margin),
        evidence=tuple(evidence),
        note=note,
    )


def compound(
    id: str,
    parts: Mapping[str, Rule],
    combine: str = "all",
    *,
    supported_if: Iterable[Clause] = (),
    refuted_if: Iterable[Clause] = (),
    kind: str = "seed",
    direction: str = "greater",
    seed_says: str = "",
    evidence: Iterable[str] = (),
    note: str = "",
) -> Rule:
    """Parts combined by ``all`` / ``any`` / ``unanimous`` / ``decision`` (see ``legacy``)."""
    for name, p in parts.items():
        if p.id != name:
            raise ValueError(f"{id}: part {name!r} has id {p.id!r}; name parts by their key")
    return Rule(
        id=id,
        kind=kind,
        direction=direction,
        protocol=1,
        template="compound",
        seed_says=seed_says,
        parts=tuple(parts.items()),
        combine=combine,
        supported_if=tuple(supported_if),
        refuted_if=tuple(refuted_if),
        evidence=tuple(evidence),
        note=note,
    )
