"""The claims ledger: every claim listed once, verdicts taken from the chapters' results."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from memnb.book import ledger

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = {
    "drex.a": {"chapter": "10_x", "claim": "a holds", "seed_number": "0.5"},
    "drex.b": {"chapter": "10_x", "claim": "b | holds", "seed_number": "0.7"},
    "hrs.c": {"chapter": "30_y", "claim": "c holds"},
}


def _setup(tmp_path: Path, claims_in_results: list[dict], chapter: str = "10_x") -> tuple[Path, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    claims = tmp_path / "claims.yaml"
    claims.write_text(yaml.safe_dump(CLAIMS))
    results = tmp_path / "results"
    (results / "cpu").mkdir(parents=True)
    record = {"chapter": chapter, "claims": claims_in_results}
    (results / "cpu" / f"{chapter}.json").write_text(json.dumps(record))
    return claims, results


def _claim(cid: str, verdict: str) -> dict:
    return {"id": cid, "verdict": verdict, "we_measured": f"{cid} measured", "rule": "r", "seed_says": "s"}


def test_every_claim_gets_a_row_and_missing_verdicts_are_not_run(tmp_path):
    claims, results = _setup(tmp_path, [_claim("drex.a", "SUPPORTED")])
    rows = {r.id: r for r in ledger.gather("cpu", claims, results)}
    assert list(rows) == ["drex.a", "drex.b", "hrs.c"]
    assert rows["drex.a"].verdict == "SUPPORTED" and rows["drex.a"].we_measured == "drex.a measured"
    assert rows["drex.b"].verdict == ledger.NOT_RUN and rows["hrs.c"].verdict == ledger.NOT_RUN


def test_unknown_or_misplaced_claim_ids_are_errors(tmp_path):
    claims, results = _setup(tmp_path, [_claim("drex.typo", "SUPPORTED")])
    with pytest.raises(ValueError, match="'drex.typo' is not in claims.yaml"):
        ledger.gather("cpu", claims, results)
    claims, results = _setup(tmp_path / "second", [_claim("hrs.c", "REFUTED")])
    with pytest.raises(ValueError, match="belongs to 30_y"):
        ledger.gather("cpu", claims, results)


def test_page_counts_verdicts_escapes_pipes_and_links_only_existing_chapters(tmp_path):
    claims, results = _setup(tmp_path, [_claim("drex.a", "REFUTED"), _claim("drex.b", "INCONCLUSIVE")])
    rows = ledger.gather("cpu", claims, results)
    page = ledger.render(rows, "cpu", chapter_pages={"10_x"})
    assert "**1** REFUTED, **1** INCONCLUSIVE, **1** NOT RUN" in page and "protocol 1" in page
    assert "b \\| holds" in page
    assert "{doc}`10_x <chapters/10_x>`" in page and "chapters/30_y" not in page
    table = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(table) == len(CLAIMS)


def test_summary_counts_each_system_once(tmp_path):
    claims, results = _setup(tmp_path, [_claim("drex.a", "SUPPORTED"), _claim("drex.b", "SUPPORTED")])
    table = ledger.summary(ledger.gather("cpu", claims, results)).splitlines()
    assert table[0] == "| system | SUPPORTED | REFUTED | INCONCLUSIVE | UNTESTABLE | NOT RUN | identities |"
    assert table[2] == "| Drex | 2 | 0 | 0 | 0 | 0 | 0 |" and table[3] == "| HRS | 0 | 0 | 0 | 0 | 1 | 0 |"
    assert table[-1] == "| **all** | **2** | **0** | **0** | **0** | **1** | **0** |"


def _p2(cid: str, verdict: str, direction: str, ci: list, **extra) -> dict:
    entry = _claim(cid, verdict) | {"direction": direction, "kind": "seed", "rule_hash": "abc", "delta": 0.1}
    return entry | {"effect": {"estimate": sum(ci) / 2, "ci95": ci, "n": 5, "mde": 0.05, "design": "paired"}} | extra


def test_readings_tell_refuted_small_untestable_and_identity_apart(tmp_path):
    claims_yaml = dict(CLAIMS) | {"drex.i": {"chapter": "10_x", "claim": "closed form", "kind": "identity"}}
    entries = [
        _p2("drex.a", "REFUTED", "greater", [0.01, 0.05]),  # real, below delta
        _p2("drex.b", "REFUTED", "greater", [-0.05, 0.05]),  # excludes delta
        _claim("drex.i", "SUPPORTED"),
    ]
    claims, results = _setup(tmp_path, entries)
    claims.write_text(yaml.safe_dump(claims_yaml))
    rows = {r.id: r for r in ledger.gather("cpu", claims, results, verify=False)}
    assert ledger.reading(rows["drex.a"]) == "real but smaller than δ"
    assert ledger.reading(rows["drex.b"]) == "no effect as large as δ"
    assert ledger.reading(rows["drex.i"]) == "true by construction"
    untestable = ledger.Row("hrs.c", "30_y", "c", "", "UNTESTABLE", "", "", entry={"control": {"passed": False}})
    assert ledger.reading(untestable).startswith("couldn't test")
    page = ledger.render(list(rows.values()), "cpu", set())
    findings, identities = page.split("## Identities")
    assert "`drex.i`" in identities and "`drex.i`" not in findings
    assert "[0.01, 0.05], n=5" in findings and "| 0.1 |" in findings


def test_the_repo_claims_list_matches_the_shared_one():
    shared = ROOT.parent / "shared" / "claims.yaml"
    if not shared.exists():
        pytest.skip("no shared claims list beside this checkout (development workspace only)")
    assert yaml.safe_load(shared.read_text()) == ledger.load_claims()


def test_cli_strict_fails_while_claims_lack_verdicts(tmp_path):
    out = tmp_path / "ledger.md"
    cmd = [sys.executable, "-m", "memnb", "ledger", "--out", str(out), "--profile", "nosuchprofile", "--strict"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and "no verdict yet for" in proc.stderr
    page, claims = out.read_text(), ledger.load_claims()
    assert all(f"`{cid}`" in page for cid in claims)
    assert page.count("**NOT RUN**") == sum(c.get("kind") != "identity" for c in claims.values())
    assert "| **all** |" in (tmp_path / "_ledger_summary.md").read_text()
