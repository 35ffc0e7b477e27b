"""Registration: a verdict's rule existed, committed, before the run that judged it.

Protocol 2 asks that each rule be written once, as data, in its project's rules file
(``memnb/<project>/rules.py``), and committed before its results exist. Two checks make that
auditable:

- ``require_clean_tree``: the runner publishes ``results/cpu`` and ``results/gpu`` only from a
  work tree whose tracked and untracked files outside ``results/`` match ``HEAD``, so
  ``env.commit`` names exactly the code (and the rules) that produced the numbers;
- ``check_rule``: the ledger reads the rules file *as it was at* ``env.commit`` (``git show``),
  evaluates it, and compares that rule's hash with the ``rule_hash`` recorded beside the verdict.
  A mismatch means the published verdict was judged by a rule other than the one committed.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from memnb.cache import ROOT

PUBLISHED_PROFILES = ("cpu", "gpu")
# Paths a run itself writes, so their changes do not make a tree dirty for the next chapter.
RUN_OUTPUTS = ("results/", "book/chapters")  # book/chapters/ (cpu) and book/chapters-<profile>/ pages
# The project package that holds each claim system's rules file.
RULES_PACKAGE = {
    "drex": "drex",
    "hrs": "hrs",
    "relsm": "relsm",
    "memarch": "memarch",
    "ams": "ams",
    "zoology": "leaderboard",
}


class RegistrationError(RuntimeError):
    """Publishing would break registration; the message names the fix."""


def _git(*args: str, root: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def uncommitted(root: Path = ROOT) -> list[str]:
    """Paths whose content differs from ``HEAD`` (staged, unstaged or untracked, not ignored),
    except the run outputs under ``results/``. ``["<not a git checkout>"]`` outside git."""
    try:
        lines = _git("status", "--porcelain", "--untracked-files=all", root=root).splitlines()
    except (OSError, subprocess.CalledProcessError):
        return ["<not a git checkout>"]
    paths = [line[3:].split(" -> ")[-1].strip('"') for line in lines if line.strip()]
    return [p for p in paths if not p.startswith(RUN_OUTPUTS)]


def require_clean_tree(profile: str, root: Path = ROOT) -> None:
    """Refuse (one line, naming the fix) to publish a profile's results from a dirty tree."""
    if profile not in PUBLISHED_PROFILES:
        return
    dirty = uncommitted(root)
    if dirty:
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        raise RegistrationError(
            f"results/{profile} is published only from a committed work tree ({len(dirty)} uncommitted: "
            f"{shown}); commit (rules first, in their own commit) or stash, then rerun"
        )


def rules_path(claim_id: str) -> str:
    """The rules file of a claim's system, relative to the repository root."""
    system = claim_id.split(".")[0]
    return f"memnb/{RULES_PACKAGE.get(system, system)}/rules.py"


@cache
def _rules_at(commit: str, path: str, root: Path = ROOT) -> dict | None:
    """The ``RULES`` dict of ``path`` as committed at ``commit`` (None: absent or unreadable)."""
    try:
        source = _git("show", f"{commit}:{path}", root=root)
    except (OSError, subprocess.CalledProcessError):
        return None
    namespace: dict = {"__name__": f"_registered_{path.replace('/', '_')}"}
    try:
        exec(compile(source, f"{commit}:{path}", "exec"), namespace)
    except Exception:  # an old rules file the current engine cannot read
        return None
    return namespace.get("RULES")


def check_rule(claim_id: str, rule_hash: str | None, commit: str | None, root: Path = ROOT) -> str:
    """``"registered"`` when the rules file at ``commit`` holds this claim's rule with this hash;
    otherwise a short reason: ``"protocol 1"`` (no hash recorded), ``"no commit"``,
    ``"rule absent at <commit>"``, ``"hash differs at <commit>"``."""
    if not rule_hash:
        return "protocol 1"
    if not commit or commit == "unknown":
        return "no commit"
    rules = _rules_at(commit, rules_path(claim_id), root)
    if not rules or claim_id not in rules:
        return f"rule absent at {commit[:12]}"
    rule = rules[claim_id]
    got = rule.rule_hash() if hasattr(rule, "rule_hash") else None
    return "registered" if got == rule_hash else f"hash differs at {commit[:12]}"
