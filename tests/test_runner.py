"""The chapter runner: validation, atomic publication, failure handling, determinism."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from memnb.book import presets, runner
from memnb.cache import ROOT
from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class Toy(Preset):  # the same preset as the toy notebook's
    n: int = per_profile(ci=4, cpu=8, low=1)


GOOD = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %% [markdown]
# # Toy
# Some text.
#
# ## Measuring

# %%
from dataclasses import dataclass

import torch
from memnb.book.chapter import Chapter
from memnb.profiles import Preset, per_profile
from memnb.seeding import seed_everything


@dataclass(frozen=True)
class Toy(Preset):
    n: int = per_profile(ci=4, cpu=8, low=1)


ch = Chapter.open("99_toy", profile, seeds, overrides, preset=Toy)
vals = []
for s in ch.seeds:
    seed_everything(s)
    vals.append(torch.randn(ch["n"]).abs().mean().item())
ch.metric("mean_abs", vals)
from memnb.train.loop import ProgressLog

log = ProgressLog("toy", 2, every=0)
log.update(1, 0.5)
log.update(2, 0.25)
FAIL_HERE
ch.publish()
"""


@pytest.fixture
def book(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    sub = {"NOTEBOOKS": "notebooks", "BOOK_CHAPTERS": "book/chapters", "RESULTS": "results", "RUNS": "runs"}
    sub["FAILED"] = "runs/failed"
    for name, folder in sub.items():
        monkeypatch.setattr(runner, name, tmp_path / folder)
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    monkeypatch.setitem(presets.PRESETS, "99_toy", Toy)

    def write(body: str) -> None:
        (tmp_path / "notebooks" / "99_toy.py").write_text(body)

    return tmp_path, write


def _strip(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in ("env", "wall_s", "timings")}


def test_run_publishes_and_is_deterministic(book, capsys):
    root, write = book
    write(GOOD.replace("FAIL_HERE", ""))
    out = runner.run_chapter("99", "ci", {}, progress=True)
    relayed = capsys.readouterr().err
    assert "99_toy: toy seed 0: step 1/2 loss 0.5 (0 s)\n" in relayed and "step 2/2 loss 0.25" in relayed
    executed = out.notebook.read_text()
    assert "step 2/2" not in executed and "it/s" not in executed  # no progress noise in the page
    first = json.loads(out.results.read_text())
    assert out.status == "ran" and out.notebook.exists()
    assert first["seeds"] == [0] and first["params"] == {"n": 4}
    assert first["metrics"]["mean_abs"]["n"] == 1
    assert set(first["env"]) == {"memnb", "torch", "device", "commit", "kernel_cpu_s", "loadavg_1min"}
    assert first["env"]["kernel_cpu_s"] > 0  # the kernel ran and was waited for
    assert runner.run_chapter("99", "ci", {}, progress=False).status == "up to date"
    again = runner.run_chapter("99", "ci", {}, force=True, progress=False)
    assert _strip(json.loads(again.results.read_text())) == _strip(first)
    published = out.results.read_bytes(), out.notebook.read_bytes()
    other = runner.run_chapter("99", "ci", {"seeds": "[5, 6]"}, progress=False)
    assert not other.published and other.results.parent == root / "runs" / "ci-custom"
    assert other.results.name.startswith("99_toy-") and other.notebook == other.results.with_suffix(".ipynb")
    assert (out.results.read_bytes(), out.notebook.read_bytes()) == published  # the published run is untouched
    rec = json.loads(other.results.read_text())
    assert rec["seeds"] == [5, 6] and rec["metrics"]["mean_abs"]["values"] != first["metrics"]["mean_abs"]["values"]
    cells = nbformat.read(other.notebook, as_version=4).cells
    (note,) = [c.source for c in cells if c.cell_type == "markdown" and "Rerun this page" in c.source]
    assert "memnb run 99_toy --profile ci -p seeds '[5, 6]'" in note
    assert "papermill - 99_toy.ipynb --cwd notebooks -p profile ci -y '{\"seeds\": [5, 6]}'" in note
    assert f"`runs/ci-custom/{other.results.name}`" in note and rec["env"]["commit"] in note
    bigger = runner.run_chapter("99", "ci", {"n": "16"}, progress=False)
    rec = json.loads(bigger.results.read_text())
    assert rec["params"] == {"n": 16} and rec["metrics"]["mean_abs"]["values"] != first["metrics"]["mean_abs"]["values"]
    assert bigger.results != other.results and not bigger.published
    cells = nbformat.read(bigger.notebook, as_version=4).cells
    (note,) = [c.source for c in cells if c.cell_type == "markdown" and "Rerun this page" in c.source]
    assert "memnb run 99_toy --profile ci -p n 16\n" in note
    assert '-p profile ci -y \'{"overrides": {"n": 16}}\'' in note
    # overrides equal to the defaults are the published run itself
    same = runner.run_chapter("99", "ci", {"n": "4", "seeds": "[0]"}, progress=False)
    assert same.published and same.status == "up to date" and same.results == out.results
    assert (out.results.read_bytes(), out.notebook.read_bytes()) == published
    assert sorted(p.name for p in (root / "runs").iterdir()) == ["ci-custom"]  # no work folders left


def test_failing_cell_publishes_nothing(book):
    root, write = book
    write(GOOD.replace("FAIL_HERE", "raise RuntimeError('boom')"))
    failed = r'99_toy failed in cell 3 of 3 \(under "Measuring"\): RuntimeError: boom -- nothing published'
    with pytest.raises(runner.ChapterError, match=failed):
        runner.run_chapter("99_toy", "ci", {}, progress=False)
    assert not (root / "results").exists() or not list((root / "results").rglob("*.json"))
    assert not (root / "book" / "chapters-ci" / "99_toy.ipynb").exists()
    assert (root / "runs" / "failed" / "99_toy.ipynb").exists()


def test_bad_inputs_are_rejected_before_running(book):
    root, write = book
    write(GOOD.replace("FAIL_HERE", ""))
    bad = {
        ("99", "laptop", ()): "valid profiles: ci, cpu, gpu",
        ("99", "ci", (("steps", "3"),)): r"99_toy: unknown parameter\(s\) steps; valid: n$",
        ("99", "ci", (("n", "abc"),)): "99_toy: parameter n='abc': expected int$",
        ("99", "ci", (("n", "[1, 2]"),)): r"99_toy: parameter n=\[1, 2\]: expected int$",
        ("99", "ci", (("n", "0"),)): "99_toy: parameter n=0: must be >= 1$",
        ("99", "ci", (("seeds", "[1, 1]"),)): "99_toy: seeds must be distinct",
        ("99", "ci", (("profile", "cpu"),)): "set the profile with --profile",
        ("zz", "ci", ()): "unknown chapter 'zz'",
    }
    for (chapter, profile, overrides), msg in bad.items():
        with pytest.raises(runner.ChapterError, match=msg):
            runner.prepare(chapter, profile, dict(overrides))
    name, _, params = runner.prepare("99", "ci", {"n": "12", "seeds": "[3]"})
    assert name == "99_toy" and params == {"profile": "ci", "seeds": [3], "overrides": {"n": 12}}
    write(GOOD.replace("overrides = {}", "n = None"))
    with pytest.raises(runner.ChapterError, match="parameters cell must set exactly profile, seeds, overrides"):
        runner.prepare("99", "ci", {})


def test_cli_bad_override_is_one_line_and_runs_nothing():
    proc = subprocess.run(
        [sys.executable, "-m", "memnb", "run", "01", "--profile", "ci", "-p", "steps", "abc"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip() == "memnb: 01_baseline: parameter steps='abc': expected int"


def test_cli_bad_profile_is_one_line_and_writes_nothing():
    before = sorted(p for p in (ROOT / "results").rglob("*") if p.is_file())
    proc = subprocess.run(
        [sys.executable, "-m", "memnb", "run", "00", "--profile", "laptop"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "valid profiles: ci, cpu, gpu" in proc.stderr
    assert sorted(p for p in (ROOT / "results").rglob("*") if p.is_file()) == before


def test_every_notebook_is_a_valid_chapter_and_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for name in runner.chapters():
        source = (ROOT / "notebooks" / f"{name}.py").read_text()
        params = runner.notebook_parameters(source)
        assert params == {"profile": "cpu", "seeds": None, "overrides": {}}, name
        assert f'Chapter.open("{name}", profile, seeds, overrides)' in source, name
        assert "kernelspec" in source, name
        assert f"book/chapters/{name}" in toc, f"{name} missing from _toc.yml"
    assert Path(ROOT / "_config.yml").exists()


def test_plain_papermill_takes_the_parameters_people_type(tmp_path):
    """The papermill route of the README: ``-p`` values arrive as strings and are parsed, and a
    preset parameter given by its own name is applied (not silently ignored)."""
    nb = tmp_path / "99_toy.py"
    nb.write_text(GOOD.replace("FAIL_HERE", "print('seeds', ch.seeds, 'n', ch['n'])"))
    bin_ = Path(sys.executable).parent
    cmd = (
        f"{bin_}/jupytext --to ipynb -o - {nb} | {bin_}/papermill - {tmp_path}/out.ipynb --cwd {tmp_path} "
        f"-p profile ci -p seeds '[1, 2]' -p n 3 --log-level ERROR"
    )
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, env={**os.environ, "MEMNB_PROGRESS": "0"})
    assert proc.returncode == 0, proc.stderr
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "seeds [1, 2] n 3" in text
