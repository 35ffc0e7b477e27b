"""The claims ledger: every claim in ``claims.yaml`` beside the verdict a chapter gave it.

``python -m memnb ledger [--profile cpu] [--strict]`` reads ``claims.yaml`` and every
``results/<profile>/<chapter>.json`` and writes the book page ``book/ledger.md``:

- **findings** (``kind: seed`` and ``kind: audit`` claims), one table per seed system, each row
  with the verdict, a plain reading of it ("no effect as large as δ", "couldn't test at this
  scale", ...), the positive control and whether it passed, δ, the effect Δ with its 95% CI and
  n, the design's minimum detectable effect (MDE), and the registration check (the rule's hash
  in the rules file at the commit that produced the result; ``memnb.book.registration``);
- **identities** (``kind: identity``: true or false by construction) apart, as checks;
- ``NOT RUN`` for a claim whose chapter has not published a verdict (``--strict`` exits 1).

Verdicts published before protocol 2 (results schema 1, no rule hash) are marked "protocol 1".
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from memnb.book import registration
from memnb.cache import ROOT, atomic_write_text

CLAIMS = ROOT / "claims.yaml"
RESULTS = ROOT / "results"
BOOK = ROOT / "book"
NOT_RUN = "NOT RUN"
ORDER = ("SUPPORTED", "REFUTED", "INCONCLUSIVE", "UNTESTABLE", NOT_RUN)
SYSTEMS = {
    "drex": "Drex",
    "hrs": "HRS",
    "relsm": "ReLSM",
    "memarch": "memory-architectures",
    "ams": "AMS v4",
    "zoology": "Zoology (MQAR)",
}


# The table a reader scans (one short row per claim); the long texts (what the seed says, what we
# measured, the control, the registration) follow it as a list, so the verdict column stays on screen.
COLUMNS = ("claim", "verdict", "reading", "Δ [95% CI], n", "δ", "MDE", "chapter")


@dataclass(frozen=True)
class Row:
    id: str
    chapter: str
    claim: str
    seed_number: str
    verdict: str
    we_measured: str
    rule: str
    kind: str = "seed"
    entry: dict = field(default_factory=dict, compare=False)  # the chapter's whole claim record
    commit: str | None = None
    registration: str = "protocol 1"

    @property
    def protocol(self) -> int:
        return int(self.entry.get("protocol", 2 if self.entry.get("rule_hash") else 1))


def reading(r: Row) -> str:
    """The verdict in plain words, so REFUTED-by-a-small-effect, not-testable and true-by-
    construction never look alike."""
    direction = r.entry.get("direction")
    eff = r.entry.get("effect") or {}
    ci = eff.get("ci95") or [None, None]
    if r.kind == "identity":
        words = {"SUPPORTED": "true by construction", "REFUTED": "false by construction", NOT_RUN: "not checked yet"}
        return words.get(r.verdict, f"{r.verdict} (judged as an experiment under protocol 1)")
    if r.verdict == "SUPPORTED":
        return "holds" + (" (underpowered design)" if r.entry.get("underpowered") else "")
    if r.verdict == "REFUTED":
        if direction == "greater":
            return "real but smaller than δ" if ci[0] is not None and ci[0] > 0 else "no effect as large as δ"
        return {
            "bound": "exceeds the bound",
            "equivalent": "the arms differ by more than δ",
            "property": "violated on a seed",
        }.get(direction, "refuted")
    if r.verdict == "INCONCLUSIVE":
        return "undecided at this power" + (" (underpowered)" if r.entry.get("underpowered") else "")
    if r.verdict == "UNTESTABLE":
        return "couldn't test at this scale: the control failed"
    return "no result yet"


def load_claims(path: Path = CLAIMS) -> dict[str, dict]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the ledger needs the project's claims list there")
    claims = yaml.safe_load(path.read_text()) or {}
    bad = [cid for cid, spec in claims.items() if not {"chapter", "claim"} <= set(spec or {})]
    if bad:
        raise ValueError(f"{path}: claims without 'chapter' and 'claim': {bad}")
    return claims


def gather(
    profile: str = "cpu", claims_path: Path = CLAIMS, results: Path = RESULTS, *, verify: bool = True
) -> list[Row]:
    """One row per claim in ``claims.yaml``, in file order. A result naming a claim id that
    ``claims.yaml`` does not list is an error (a typo would otherwise hide a verdict). With
    ``verify``, each protocol-2 verdict's rule hash is checked at its record's commit."""
    claims = load_claims(claims_path)
    judged: dict[str, tuple[dict, str | None]] = {}
    for path in sorted((results / profile).glob("*.json")):
        record = json.loads(path.read_text())
        for c in record.get("claims", []):
            if c["id"] not in claims:
                raise ValueError(f"{path}: claim id {c['id']!r} is not in {claims_path.name}")
            if claims[c["id"]]["chapter"] != record.get("chapter"):
                raise ValueError(f"{path}: claim {c['id']!r} belongs to {claims[c['id']]['chapter']}")
            judged[c["id"]] = (c, (record.get("env") or {}).get("commit"))
    rows = []
    for cid, spec in claims.items():
        c, commit = judged.get(cid, ({}, None))
        reg = "not run" if not c else "protocol 1"
        if c and verify and c.get("rule_hash") and c.get("protocol", 2) == 2:
            reg = registration.check_rule(cid, c.get("rule_hash"), commit)
        rows.append(
            Row(
                id=cid,
                chapter=spec["chapter"],
                claim=spec["claim"],
                seed_number=str(spec.get("seed_number", "")),
                verdict=c.get("verdict", NOT_RUN),
                we_measured=c.get("we_measured", ""),
                rule=c.get("rule", ""),
                kind=spec.get("kind", "seed"),
                entry=c,
                commit=commit,
                registration=reg,
            )
        )
    return rows


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _num(x: object) -> str:
    return f"{x:.3g}" if isinstance(x, (int, float)) else "–"


def _effect(r: Row) -> str:
    eff = r.entry.get("effect") or {}
    if not eff:
        return "–"
    ci = eff.get("ci95")
    ci_txt = f" [{_num(ci[0])}, {_num(ci[1])}]" if ci else ""
    return f"{_num(eff.get('estimate'))}{ci_txt}, n={eff.get('n', '?')}"


def _control(r: Row) -> str:
    ctl = r.entry.get("control") or {}
    if not ctl:
        return "–"
    mark = "passed" if ctl.get("passed") else "**failed**"
    return f"{mark}: {_cell(ctl.get('measured', ''))}"


def _registered(r: Row) -> str:
    if r.registration == "registered":
        return f"yes, `{(r.commit or '')[:8]}`"
    return r.registration


def render(rows: list[Row], profile: str, chapter_pages: set[str]) -> str:
    """The ledger page (MyST markdown). Chapters with a page in the book are linked."""
    findings = [r for r in rows if r.kind != "identity"]
    identities = [r for r in rows if r.kind == "identity"]
    counts = Counter(r.verdict for r in findings)
    summary = ", ".join(f"**{counts[v]}** {v}" for v in ORDER if counts[v])
    p1 = sum(r.protocol == 1 and r.verdict != NOT_RUN for r in rows)
    bad_reg = [r.id for r in rows if r.registration not in ("registered", "protocol 1", "not run")]
    lines = [
        "# The claims ledger",
        "",
        f"Every claim the book reruns ({len(rows)} in `claims.yaml`), with the verdict its chapter published",
        f"in `results/{profile}/` (profile `{profile}`).",
        f"**Findings** ({len(findings)} seed and audit claims): {summary}.",
        f"**Identities** ({len(identities)}: statements true or false by construction) are checked, not judged,",
        "and listed apart at the end. How a verdict is reached is in {doc}`method`.",
        "",
        "- SUPPORTED / REFUTED / INCONCLUSIVE follow the claim's registered rule; *reading* says what a",
        "  REFUTED means (no effect as large as δ, or a real effect smaller than δ);",
        "- UNTESTABLE: the positive control failed, so the setup could not show the effect at this scale;",
        f"  that is no evidence either way; {NOT_RUN}: no published verdict yet;",
    ]
    if p1:
        lines += [
            f"- *protocol 1* marks a verdict published before protocol 2 ({p1} of them): no control, δ or",
            "  registered rule hash yet; its chapter's rebuild re-registers and reruns it.",
        ]
    if bad_reg:
        lines.append(f"- **Registration check failed** for {', '.join(bad_reg)}: see the *registered* column.")
    lines += ["", "Generated by `python -m memnb ledger`; do not edit by hand."]

    def link(r: Row) -> str:
        return f"{{doc}}`{r.chapter} <chapters/{r.chapter}>`" if r.chapter in chapter_pages else r.chapter

    for prefix, system in SYSTEMS.items():
        mine = [r for r in findings if r.id.split(".")[0] == prefix]
        if not mine:
            continue
        lines += ["", f"## {system}", ""]
        lines.append(f"| {' | '.join(COLUMNS)} |")
        lines.append("|" + "---|" * len(COLUMNS))
        for r in mine:
            e = r.entry
            eff = e.get("effect") or {}
            lines.append(
                f"| `{r.id}` ({r.kind}) | **{r.verdict}** | {reading(r)} | {_effect(r)} | {_num(e.get('delta'))} "
                f"| {_num(eff.get('mde'))} | {link(r)} |"
            )
        lines += ["", f"{system}, claim by claim:", ""]
        for r in mine:
            lines += [
                f"- **`{r.id}`** ({r.kind}): {_cell(r.claim)}",
                f"  - *the seed says:* {_cell(r.seed_number) or '–'}",
                f"  - *we measured:* {_cell(r.we_measured) or '–'}",
                f"  - *control:* {_control(r)}; *registered:* {_registered(r)}",
            ]
    if identities:
        lines += ["", "## Identities: true or false by construction", ""]
        lines += ["| claim | checked | what we computed | chapter |", "|---|---|---|---|"]
        for r in identities:
            lines.append(
                f"| `{r.id}`: {_cell(r.claim)} | **{reading(r)}** | {_cell(r.we_measured) or '–'} | {link(r)} |"
            )
    return "\n".join(lines) + "\n"


def summary(rows: list[Row]) -> str:
    """Finding verdicts per seed system, plus identity checks: the landing page's table."""
    cols = (*ORDER, "identities")
    lines = ["| system | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for prefix, system in SYSTEMS.items():
        mine = [r for r in rows if r.id.split(".")[0] == prefix]
        if mine:
            counts = Counter(r.verdict for r in mine if r.kind != "identity")
            ident = sum(r.kind == "identity" for r in mine)
            lines.append(f"| {system} | " + " | ".join(str(counts[v]) for v in ORDER) + f" | {ident} |")
    total = Counter(r.verdict for r in rows if r.kind != "identity")
    ident = sum(r.kind == "identity" for r in rows)
    lines.append("| **all** | " + " | ".join(f"**{total[v]}**" for v in ORDER) + f" | **{ident}** |")
    return "\n".join(lines) + "\n"


def write(
    profile: str = "cpu", out: Path = BOOK / "ledger.md", claims_path: Path = CLAIMS, results: Path = RESULTS
) -> list[Row]:
    """Write the ledger page ``out`` and, beside it, ``_ledger_summary.md`` (included by the
    landing page)."""
    rows = gather(profile, claims_path, results)
    pages = {p.stem for p in (out.parent / "chapters").glob("*") if p.suffix in (".ipynb", ".md")}  # .md: a note
    atomic_write_text(out, render(rows, profile, pages))
    atomic_write_text(out.parent / "_ledger_summary.md", summary(rows))
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m memnb ledger", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--out", type=Path, default=BOOK / "ledger.md")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a claim has no verdict")
    ap.add_argument("--readme", action="store_true", help="also rewrite README.md's findings section and figure")
    args = ap.parse_args(argv)
    try:
        rows = write(args.profile, args.out)
        from memnb.book import landing  # draws with matplotlib: imported only when the page is built

        landing.write(rows, args.profile, args.out.parent)
        if args.readme:
            from memnb.book import readme

            if args.profile != "cpu":
                raise ValueError("--readme: the README reports the cpu results only (--profile cpu)")
            changed = readme.write(rows, args.profile)
            print(f"README.md: findings section {'rewritten' if changed else 'unchanged'}; figure {readme.FIGURE}")
    except (FileNotFoundError, ValueError) as e:
        print(f"memnb: {e}", file=sys.stderr)
        return 1
    counts = Counter(r.verdict for r in rows if r.kind != "identity")
    ident = sum(r.kind == "identity" for r in rows)
    print(
        f"ledger: {len(rows)} claims -> {args.out}: "
        + ", ".join(f"{counts[v]} {v}" for v in ORDER if counts[v])
        + f"; {ident} identities"
    )
    missing = [r.id for r in rows if r.verdict == NOT_RUN]
    if args.strict and missing:
        print(f"memnb: no verdict yet for {len(missing)} claims: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0
