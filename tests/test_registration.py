"""Registration: publishing needs a committed tree, and a verdict's rule hash is checked against
the rules file at the commit that produced it."""

import subprocess
from pathlib import Path

import pytest

from memnb.book import registration as reg

RULES_V1 = """
class R:
    def __init__(self, delta):
        self.delta = delta
    def rule_hash(self):
        return f"h{self.delta}"
RULES = {"drex.x": R(0.1)}
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@t")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "memnb" / "drex").mkdir(parents=True)
    (tmp_path / "memnb" / "drex" / "rules.py").write_text(RULES_V1)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "rules")
    return tmp_path


def test_clean_tree_publishes_and_results_do_not_count(repo: Path) -> None:
    reg.require_clean_tree("cpu", repo)
    (repo / "results" / "cpu").mkdir(parents=True)
    (repo / "results" / "cpu" / "10.json").write_text("{}")  # a chapter's own output
    reg.require_clean_tree("cpu", repo)


@pytest.mark.parametrize("change", ["edit", "untracked"])
def test_dirty_tree_refuses_published_profiles_only(repo: Path, change: str) -> None:
    if change == "edit":
        (repo / "memnb" / "drex" / "rules.py").write_text(RULES_V1.replace("0.1", "0.2"))
    else:
        (repo / "memnb" / "new.py").write_text("x = 1\n")
    with pytest.raises(reg.RegistrationError, match="commit .* then rerun"):
        reg.require_clean_tree("cpu", repo)
    reg.require_clean_tree("ci", repo)  # a smoke-test profile is never published


def test_check_rule_against_the_rules_file_at_the_commit(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    assert reg.check_rule("drex.x", "h0.1", commit, repo) == "registered"
    assert reg.check_rule("drex.x", "h0.2", commit, repo).startswith("hash differs")
    assert reg.check_rule("drex.y", "h0.1", commit, repo).startswith("rule absent")
    assert reg.check_rule("drex.x", None, commit, repo) == "protocol 1"
    # the rule changed later: the old commit still judges the old results
    (repo / "memnb" / "drex" / "rules.py").write_text(RULES_V1.replace("0.1", "0.2"))
    git(repo, "commit", "-qam", "new delta")
    assert reg.check_rule("drex.x", "h0.1", commit, repo) == "registered"
    assert reg.check_rule("drex.x", "h0.1", git(repo, "rev-parse", "HEAD"), repo).startswith("hash differs")


def test_rules_path_per_system() -> None:
    assert reg.rules_path("zoology.mqar_attention") == "memnb/leaderboard/rules.py"
    assert reg.rules_path("hrs.v16_prepend_leaks") == "memnb/hrs/rules.py"
