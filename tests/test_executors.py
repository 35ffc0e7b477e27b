"""The Ray executor (memnb.book.executors): two `ci` chapters run as tasks of a local Ray give the
sequential runner's numbers and verdicts, published to the same places, and the route's errors
are one line. Runs in a temp folder: the repository's results/ and book are never written."""

import json
import subprocess
import sys

import pytest

from memnb.book import compare, executors, runner
from memnb.cache import ROOT

CHAPTERS = ["02_memory_zoo", "33_exp_kernel_attention"]  # the two fastest at ci (about 9 s each)


@pytest.fixture(scope="module")
def local_ray():
    ray = executors.import_ray()
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def places(tmp_path, monkeypatch):  # the real notebooks; every output in tmp_path
    for name, folder in {"BOOK_CHAPTERS": "book/chapters", "RESULTS": "results", "RUNS": "runs"}.items():
        monkeypatch.setattr(runner, name, tmp_path / folder)
    monkeypatch.setattr(runner, "FAILED", tmp_path / "runs" / "failed")
    return tmp_path


def test_ray_runs_equal_the_sequential_runs(local_ray, places):
    # one CPU a task, so the two run at once on the local Ray's two
    by_ray = {out.chapter: out for out in executors.run_ray(CHAPTERS, "ci", {}, cpus=1)}
    assert sorted(by_ray) == CHAPTERS and all(isinstance(o, runner.RunOutcome) for o in by_ray.values())
    ray_records = {}
    for name, out in by_ray.items():
        assert out.status == "ran" and out.published
        assert (out.results, out.notebook) == runner.outputs(name, {"profile": "ci"})  # the same places
        assert out.notebook.exists()
        ray_records[name] = json.loads(out.results.read_text())
    for name in CHAPTERS:
        seq = runner.run_chapter(name, "ci", {}, force=True, progress=False)
        assert seq.results == by_ray[name].results
        record = json.loads(seq.results.read_text())
        assert compare.compare(ray_records[name], record) == []  # metrics and verdicts, wall clock aside
        assert compare.numbers_and_verdicts(ray_records[name]) == compare.numbers_and_verdicts(record)
        assert ray_records[name]["env"]["commit"] == record["env"]["commit"]
        assert ray_records[name]["seeds"] == record["seeds"]
        # the page Ray published carried the same run key: an unforced rerun is up to date
        assert runner.run_chapter(name, "ci", {}, progress=False).status == "up to date"
    assert any(rec["claims"] for rec in ray_records.values())  # a verdict was compared, not only metrics
    assert not list((places / "runs").glob(".*"))  # no work folder left behind


def test_gpu_profile_needs_a_gpu_in_the_cluster(local_ray, places):
    with pytest.raises(runner.ChapterError, match="this Ray cluster has none.*--allow-cpu"):
        list(executors.run_ray(CHAPTERS[:1], "gpu", {}))
    assert not (places / "results").exists()


def test_missing_ray_is_one_line_naming_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(runner.ChapterError, match=r"needs Ray.*make venv.*requirements.txt"):
        executors.import_ray()


@pytest.mark.parametrize(
    "extra, says",
    [
        ([], "memnb: --address is the Ray cluster's; add --executor ray"),
        (["--executor", "ray"], "memnb: cannot reach a Ray head at 127.0.0.1:1 ("),  # refused: one line, no retries
    ],
)
def test_cli_address_errors_are_one_line(extra, says):
    proc = subprocess.run(
        [sys.executable, "-m", "memnb", "run", "02", "--profile", "ci", "--address", "127.0.0.1:1", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(says)
