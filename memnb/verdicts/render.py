"""Rules rendered as text: ``rule_markdown`` for a chapter's "Rules, registered before the run"
cell, ``rule_sentence`` for the ``rule`` string of a claim entry. Both are generated from the
rule's data only, so the text cannot drift from what the engine applies."""

from __future__ import annotations

import re

from memnb.verdicts.rule import Rule

KIND_WORDS = {"seed": "seed claim", "audit": "audit", "identity": "identity: checked, not judged"}
DIRECTION_WORDS = {
    "greater": "directional",
    "bound": "bound",
    "equivalent": "equivalence",
    "property": "property",
    "check": "identity check",
}


def _g(x: float | None) -> str:
    return "–" if x is None else f"{x:g}"


def decision_sentence(r: Rule) -> str:
    """The decision, in words, for any rule."""
    if r.protocol == 1:
        return _legacy_decision(r)
    if r.direction == "check":
        checks = " and ".join(c.text() for c in r.checks)
        return f"SUPPORTED (true by construction) if {checks} on every seed; REFUTED (false) otherwise."
    if r.parts:
        names = ", ".join(n for n, _ in r.parts)
        if r.combine == "tested":
            return (
                f"each part ({names}) is judged by its own rule; a part whose control fails does not qualify; the "
                "claim takes the weakest verdict of the parts that qualify (REFUTED < INCONCLUSIVE < SUPPORTED), "
                "UNTESTABLE when none does."
            )
        return (
            f"each part ({names}) is judged by its own rule; the claim takes the weakest part's verdict "
            "(REFUTED < UNTESTABLE < INCONCLUSIVE < SUPPORTED)."
        )
    d, b = _g(r.delta), _g(r.bound)
    if r.comparisons:
        return (
            f"each comparison best − other is decided as a directional claim on its Holm-corrected CI (family "
            f"α = {r.alpha:g}, one-sided p-values, level α/2 a side): SUPPORTED if lo > 0 and hi ≥ δ = {d}, "
            "REFUTED if hi < δ, INCONCLUSIVE otherwise; the claim takes the weakest comparison."
        )
    if r.direction == "greater":
        return (
            f"SUPPORTED if lo > 0 and hi ≥ δ = {d}; REFUTED if hi < δ (real but smaller than δ when lo > 0 too); "
            "INCONCLUSIVE otherwise."
        )
    if r.direction == "bound":
        return f"SUPPORTED if hi ≤ b = {b}; REFUTED if lo > b; INCONCLUSIVE otherwise."
    if r.direction == "equivalent":
        return (
            f"SUPPORTED if −δ < lo and hi < δ = {d} (TOST at 2.5% a side); REFUTED if lo ≥ δ or hi ≤ −δ; "
            "INCONCLUSIVE otherwise."
        )
    x, tol = r.measure.text(), _g(r.tolerance)
    if r.happens:
        return f"SUPPORTED if |{x}| > {tol} on any seed; REFUTED if on none. No CI."
    return f"REFUTED if |{x}| > {tol} on any seed (one violation suffices); SUPPORTED if on none. No CI."


def _legacy_decision(r: Rule) -> str:
    if r.template == "all_seeds_beyond":
        x, t = r.measure.text(), _g(r.threshold)
        yes, no = ("above", "below") if r.side == "above" else ("below", "above")
        return (
            f"SUPPORTED if every seed's {x} and the whole 95% CI of its mean lie {yes} {t}; REFUTED if every seed's "
            f"value and the whole CI lie {no} {t}; INCONCLUSIVE otherwise (and with one seed)."
        )
    if r.template == "all_or_none_seeds":
        cond = " and ".join(c.text() for c in r.checks)
        return f"per seed, {cond}: SUPPORTED if it holds on every seed, REFUTED if on none, INCONCLUSIVE otherwise."
    if r.template == "equivalence_margin":
        x, m = r.measure.text(), _g(r.threshold)
        return (
            f"SUPPORTED if every seed's |{x}| and the whole 95% CI lie inside (−{m}, {m}); REFUTED if every seed's "
            f"value and the whole CI lie above {m}; INCONCLUSIVE otherwise."
        )
    if r.combine == "all":
        return "SUPPORTED if every part is SUPPORTED; REFUTED if any part is REFUTED; INCONCLUSIVE otherwise."
    if r.combine == "any":
        return "SUPPORTED if any part is SUPPORTED; REFUTED if every part is REFUTED; INCONCLUSIVE otherwise."
    if r.combine == "unanimous":
        return "SUPPORTED if every part is SUPPORTED; REFUTED if every part is REFUTED; INCONCLUSIVE otherwise."
    s = " or ".join(f"({c.text()})" for c in r.supported_if) or "never"
    f = " or ".join(f"({c.text()})" for c in r.refuted_if) or "never"
    return f"SUPPORTED if {s}; otherwise REFUTED if {f}; INCONCLUSIVE otherwise."


def _gate(r: Rule) -> str:
    c = r.control
    if c is None:
        return ""
    if r.protocol == 1:
        return f"Gate: {c.text()}; if it fails, INCONCLUSIVE."
    return f"Positive control: {c.text()}; if it fails, UNTESTABLE."


def rule_sentence(r: Rule) -> str:
    """The rule in one paragraph (plain text, no markdown emphasis)."""
    return re.sub(r"\s+", " ", _strip(rule_markdown(r, heading=False, seed=False))).strip()


def _strip(md: str) -> str:
    lines = [re.sub(r"^\s*- ", "", line) for line in md.splitlines()]
    return " ".join(lines).replace("*", "").replace("`", "")


def rule_markdown(r: Rule, heading: bool = True, seed: bool = True, depth: int = 0) -> str:
    """The rule as a markdown block: what is measured, design, control, δ / bound, decision."""
    pad = "  " * depth
    lines: list[str] = []
    if heading:
        what = f"{KIND_WORDS[r.kind]}; {DIRECTION_WORDS[r.direction]}; protocol {r.protocol}"
        if r.protocol == 1:
            what += f", template `{r.template}`"
        lines.append(f"{pad}**`{r.id}`** ({what})")
    if r.seed_says and seed:
        lines.append(f"{pad}- The seed says: {r.seed_says}")
    if r.measure is not None:
        units = f", in {r.measure.units}" if r.measure.units else ""
        sign = ""
        if r.protocol == 2 and r.direction == "bound":
            sign = "; the claim is Δ ≤ b"
        elif r.protocol == 2 and r.direction != "property":
            sign = "; positive means as the seed says"
        name = "Δ" if r.protocol == 2 else "Measure"
        lines.append(f"{pad}- {name} = {r.measure.text()}{units}{sign}.")
    if r.comparisons:
        lines.append(f"{pad}- Comparisons (best-of-K): " + "; ".join(m.text() for m in r.comparisons) + ".")
    if r.protocol == 2 and r.direction not in ("check", "property") and not r.parts:
        lines.append(f"{pad}- Design: {r.design.text()}.")
    if r.protocol == 2 and r.direction == "property":
        lines.append(f"{pad}- Design: checked on each of at least {r.design.n_min} seeds against the tolerance.")
    if r.control is not None:
        lines.append(f"{pad}- {_gate(r)}")
    if r.protocol == 2 and r.delta is not None:
        units = f" {r.measure.units}" if r.measure is not None and r.measure.units else ""
        lines.append(f"{pad}- δ = {_g(r.delta)}{units}: {r.delta_why}")
    if r.protocol == 2 and r.bound is not None:
        lines.append(f"{pad}- Bound b = {_g(r.bound)}: {r.bound_why}")
    if r.parts:
        lines.append(f"{pad}- Parts:")
        for name, p in r.parts:
            lines.append(f"{pad}  - *{name}*: " + rule_sentence(p))
    lines.append(f"{pad}- Decision: {decision_sentence(r)}")
    if r.protocol == 2 and r.direction in ("greater", "equivalent", "bound") and not r.parts:
        lines.append(
            f"{pad}- Power: MDE = (t₀.₉₇₅,ₙ₋₁ + t₀.₈₀,ₙ₋₁) × SE; the claim is flagged underpowered if MDE > δ."
        )
    if r.note:
        lines.append(f"{pad}- Note: {r.note}")
    return "\n".join(lines)
