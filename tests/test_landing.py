"""The landing page's key figures come from the published results."""

import json

from memnb.book import landing, ledger


def row(cid: str, verdict: str) -> ledger.Row:
    return ledger.Row(cid, "ch", "claim", "seed", verdict, "ours", "rule")


def test_verdict_counts_per_project() -> None:
    rows = [row("drex.a", "SUPPORTED"), row("drex.b", "REFUTED"), row("drex.c", "REFUTED"), row("ams.x", "NOT RUN")]
    counts = landing.verdict_counts(rows)
    assert counts.loc["Drex"].to_dict() == {
        "SUPPORTED": 1,
        "REFUTED": 2,
        "INCONCLUSIVE": 0,
        "UNTESTABLE": 0,
        "NOT RUN": 0,
        "identity (checked)": 0,
    }
    assert counts.loc["AMS v4", "NOT RUN"] == 1 and counts.loc["HRS"].sum() == 0


def test_leaderboard_scores_sorted_with_chance() -> None:
    record = {
        "metrics": {
            "a/acc": {"mean": 0.1, "ci95": [0.05, 0.15]},
            "b/acc": {"mean": 0.3, "ci95": [0.2, 0.4]},
            "a/params": 100,
            "mean_chance": 0.12,
        }
    }
    scores, chance = landing.leaderboard_scores(record)
    assert scores["memory"].tolist() == ["b", "a"] and scores["lo"].tolist() == [0.2, 0.05] and chance == 0.12


def test_write_draws_both_figures_when_the_leaderboard_published(tmp_path) -> None:
    results = tmp_path / "results"
    (results / "cpu").mkdir(parents=True)
    book = tmp_path / "book"
    book.mkdir()
    rows = [row("drex.a", "SUPPORTED")]
    assert [p.name for p in landing.write(rows, "cpu", book, results)] == ["_verdicts.png"]
    assert "_leaderboard.png" not in (book / "_key_figures.md").read_text()
    record = {"metrics": {"a/acc": {"mean": 0.1, "ci95": [0.0, 0.2]}, "mean_chance": 0.1}}
    (results / "cpu" / "50_leaderboard.json").write_text(json.dumps(record))
    made = landing.write(rows, "cpu", book, results)
    assert [p.name for p in made] == ["_verdicts.png", "_leaderboard.png"]
    assert all(p.stat().st_size > 1000 for p in made)
    assert "50_leaderboard.json" in (book / "_key_figures.md").read_text()


def test_one_seed_leaderboard_draws_without_an_interval(tmp_path) -> None:
    """A ``ci`` run has one seed, so its metrics carry ``ci95: None``: the figure still builds."""
    (tmp_path / "results" / "ci").mkdir(parents=True)
    record = {"metrics": {"a/acc": {"mean": 0.1, "ci95": None, "n": 1}, "mean_chance": 0.1}}
    (tmp_path / "results" / "ci" / "50_leaderboard.json").write_text(json.dumps(record))
    scores, _ = landing.leaderboard_scores(record)
    assert scores["lo"].tolist() == [0.1] == scores["hi"].tolist()
    made = landing.write([row("drex.a", "SUPPORTED")], "ci", tmp_path, tmp_path / "results")
    assert [p.name for p in made] == ["_verdicts.png", "_leaderboard.png"]
