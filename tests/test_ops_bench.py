"""The benchmark runs end to end on tiny lengths and writes its JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memnb.book import bench


def test_bench_writes_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--lengths", "32", "64", "--repeats", "1", "--no-memory", "--no-reference", "--out", str(tmp_path)]
    assert bench.main(argv) == 0
    (path,) = tmp_path.glob("*.json")
    report = json.loads(path.read_text())
    # a run that is not the full one never takes the committed file's name
    assert report["schema"] == 1 and path.stem == f"{report['device']}-quick" and report["mode"] == "quick"
    ok = {r["case"] for r in report["results"] if r["status"] == "ok"}
    assert {"gated_delta_rule/chunked", "gated_delta_rule/naive", "drex_memory/vectorised", "attention/sdpa"} <= ok
    skipped = [r for r in report["results"] if r["status"] == "skipped"]
    assert all(r["reason"] for r in skipped)
    for r in report["results"]:
        if r["status"] == "ok":
            assert r["median_s"] > 0 and r["tokens_per_s"] > 0 and len(r["times_s"]) == 1
    assert set(report["slopes"]) == ok and set(report["speedup_chunked_vs_loop"]) == {"32", "64"}
    assert "cost slope" in capsys.readouterr().out


def test_cpu_peak_memory_is_measured_in_a_fresh_process() -> None:
    small, large = bench.cpu_peak_mb("attention/sdpa", 64), bench.cpu_peak_mb("gated_delta_rule/chunked", 4096)
    assert small is not None and large is not None and 0 <= small < large


def test_slope() -> None:
    assert bench.slope([512, 2048, 8192], [1.0, 4.0, 16.0]) == pytest.approx(1.0)
    assert bench.slope([512, 2048], [1.0, 16.0]) == pytest.approx(2.0)
    assert bench.slope([512], [1.0]) is None


def test_reference_comparison_names_its_baselines_and_agrees() -> None:
    pytest.importorskip("fla.ops.gated_delta_rule.naive")
    out = bench.reference_comparison(64, repeats=1, verbose=False)
    assert set(out["impls"]) == {"memnb/chunked", "memnb/naive", "fla/naive_chunk", "fla/naive_recurrent"}
    for name, r in out["impls"].items():
        assert r["baseline"] and r["tokens_per_s"] > 0 and r["useful_gflops"] > 0
        assert r["max_rel_diff_vs_memnb_chunked"] < 1e-4, name
    assert "naive_chunk_gated_delta_rule" in out["impls"]["fla/naive_chunk"]["baseline"]
    assert out["sgemm_gflops"] > 0 and out["impls"]["memnb/chunked"]["memnb_chunked_speedup"] == 1.0
