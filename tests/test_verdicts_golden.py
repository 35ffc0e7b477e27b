"""Golden test: the rules files reproduce every published verdict from the published metrics alone.

For each claim in ``results/cpu/*.json``, its rule in ``memnb/<project>/rules.py`` applied to that
file's ``metrics`` gives the verdict the chapter published — and, for a compound claim, the verdict
of each of its parts (protocol 2 records them as data; the protocol-1 text patterns chapter 32 needed
went with its rebuild).
"""

import ast
import importlib
import inspect
import json
from pathlib import Path

import pytest
import yaml

from memnb.book.registration import RULES_PACKAGE
from memnb.verdicts import judge

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ("drex", "hrs", "relsm", "memarch", "ams", "leaderboard")
N_JUDGED = 37  # claims with a published verdict in results/cpu/ (every claim of claims.yaml)
NOT_RUN: set[str] = set()
CLAIMS = yaml.safe_load((ROOT / "claims.yaml").read_text())


def _modules():
    return {p: importlib.import_module(f"memnb.{p}.rules") for p in PROJECTS}


def _all_rules() -> dict:
    rules: dict = {}
    for project, mod in _modules().items():
        for cid, r in mod.RULES.items():
            assert cid == r.id, f"memnb/{project}/rules.py: key {cid!r} is not the rule's id {r.id!r}"
            assert cid not in rules, f"{cid} has two rules"
            system = cid.split(".")[0]
            assert RULES_PACKAGE.get(system, system) == project, f"{cid} is in memnb/{project}/rules.py"
            rules[cid] = r
    return rules


RULES = _all_rules()


def _published() -> list[tuple[str, dict, dict]]:
    out = []
    for path in sorted((ROOT / "results" / "cpu").glob("*.json")):
        record = json.loads(path.read_text())
        out += [(record["chapter"], c, record["metrics"]) for c in record.get("claims", [])]
    return out


PUBLISHED = _published()


def test_count_of_published_verdicts():
    assert len(PUBLISHED) == N_JUDGED
    assert len({c["id"] for _, c, _ in PUBLISHED}) == N_JUDGED


@pytest.mark.parametrize(("chapter", "claim", "metrics"), PUBLISHED, ids=[c["id"] for _, c, _ in PUBLISHED])
def test_rule_reproduces_the_published_verdict(chapter, claim, metrics):
    rule = RULES[claim["id"]]
    entry = judge(rule, metrics)
    assert entry["verdict"] == claim["verdict"], entry["we_measured"]
    assert CLAIMS[claim["id"]]["chapter"] == chapter
    assert entry["kind"] == CLAIMS[claim["id"]]["kind"]
    read = [x for m in rule._measures() for x in m.metrics]  # evidence may name metrics of a larger profile only
    missing = [m for m in read if m not in metrics]
    assert not missing, f"{claim['id']}: the rule reads metrics the chapter does not publish: {missing}"
    assert set(claim["evidence"]) <= set(rule.metric_names()), "the rule's evidence covers the published evidence"


STRUCTURED = [(c, m) for _, c, m in PUBLISHED if c.get("parts")]


@pytest.mark.parametrize(("claim", "metrics"), STRUCTURED, ids=[c["id"] for c, _ in STRUCTURED])
def test_rule_reproduces_the_published_structured_parts(claim, metrics):
    """Protocol-2 compound claims record their parts as data: each part's verdict is reproduced."""
    parts = {p["name"]: p["verdict"] for p in judge(RULES[claim["id"]], metrics)["parts"]}
    assert parts == {p["name"]: p["verdict"] for p in claim["parts"]}


def test_every_claim_has_a_rule_and_a_verdict_or_is_not_run():
    assert set(RULES) == set(CLAIMS)
    assert NOT_RUN <= set(RULES)
    assert {c["id"] for _, c, _ in PUBLISHED} == set(RULES) - NOT_RUN


def test_identity_claims_are_checks():
    for cid, r in RULES.items():
        assert r.kind == CLAIMS[cid]["kind"]
        assert (r.direction == "check") == (r.kind == "identity"), cid


def test_rules_files_hold_no_results():
    """Registration: a rules file imports only the rule builders and reads no file."""
    for project, mod in _modules().items():
        tree = ast.parse(inspect.getsource(mod))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module == "__future__" or node.module.startswith("memnb.verdicts"), (project, node.module)
            assert not isinstance(node, ast.Import), project
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("open", "eval", "exec"), project


def test_every_rule_renders_and_hashes():
    for r in RULES.values():
        md = r.markdown()
        assert f"`{r.id}`" in md and "Decision:" in md
        assert r.rule_hash() == type(r)(**{f: getattr(r, f) for f in r.__dataclass_fields__}).rule_hash()
        assert r.protocol in (1, 2)  # protocol-1 rules kept reproducible; new rules are protocol 2
        if r.protocol == 2 and r.kind != "identity":
            assert r.control is not None or all(p.control is not None for _, p in r.parts), r.id
