"""The README's findings section and landing figure are generated from results/cpu: they cannot drift."""

from __future__ import annotations

from memnb.book import landing, ledger, readme
from memnb.cache import ROOT


def test_readme_findings_match_the_published_results():
    rows = ledger.gather("cpu", verify=False)
    assert readme.current() == readme.section(rows), (
        "README.md's findings section differs from results/cpu: run `python -m memnb ledger --readme` "
        "and commit README.md and book/figures/verdicts-cpu.png with the results"
    )


def test_readme_figure_is_drawn_from_the_published_results(tmp_path):
    rows = ledger.gather("cpu", verify=False)
    landing._save(landing.verdicts_figure(rows, "cpu"), tmp_path / "v.png", dpi=100)
    committed = ROOT / readme.FIGURE
    assert committed.stat().st_size < 100_000
    assert committed.read_bytes() == (tmp_path / "v.png").read_bytes(), "run `python -m memnb ledger --readme`"


def _row(entry: dict, verdict: str = "REFUTED") -> ledger.Row:
    return ledger.Row("x.y", "10_x", "a claim.", "", verdict, "we saw 3", "", entry=entry | {"verdict": verdict})


def test_headline_reads_its_numbers_from_the_record():
    rule = "Δ = acc(a) − acc(b), in accuracy; positive means as the seed says. Design: paired"
    effect = {"estimate": 0.01234, "ci95": [-0.02, 0.04], "n": 5}
    entry = {"rule": rule, "effect": effect, "delta": 0.1, "direction": "greater", "control": {"passed": True}}
    line = readme.headline(_row(entry))
    assert line == (
        "- `x.y` ([10_x](notebooks/10_x.py)): *a claim.* **REFUTED** (no effect as large as δ): "
        "Δ = acc(a) − acc(b) = 0.0123 accuracy, 95% CI [-0.02, 0.04], n = 5 seeds; δ = 0.1; positive control passed."
    )
    compound = {"parts": [dict(entry, name="p1"), dict(entry, name="p2", effect=effect | {"estimate": 0.5})]}
    line = readme.headline(_row(compound | {"weakest_part": "p2", "control": {"passed": False}}))
    assert "(the deciding one of 2 comparisons) = 0.5 accuracy" in line and "control passed" in line
    assert readme.headline(_row({}, "INCONCLUSIVE")).endswith(": we saw 3")  # protocol 1: its own words
