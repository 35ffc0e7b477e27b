"""The training-throughput bench runs end to end on a tiny setting; its FLOP formulas cover the zoo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memnb.book import bench, bench_train
from memnb.layers import registry


def test_bench_train_writes_a_quick_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--lengths", "16", "--threads", "1", "--steps", "1", "--repeats", "1", "--no-ensemble"]
    assert bench.main(["--train", *argv, "--out", str(tmp_path)]) == 0  # dispatched by the op bench
    (path,) = tmp_path.glob("*.json")
    report = json.loads(path.read_text())
    assert path.name == f"{report['device']}-train-quick.json" and report["mode"] == "quick"
    assert {r["mixer"] for r in report["results"]} == set(registry.ZOO) == set(report["mixers"])
    for r in report["results"]:
        assert r["T"] == 16 and r["threads"] == 1 and r["tokens_per_s"] > 0 and r["frac_of_peak"] > 0
    assert report["mixers"]["attention"]["vs_attention"] == 1.0
    for m in report["mixers"].values():
        assert m["passes"] == (m["vs_attention"] >= bench_train.THRESHOLD)
        assert m["passes"] or m["reason"]
    assert report["ensemble"] is None and report["ensemble_speedup"] is None
    assert "vs attention" in capsys.readouterr().out


def test_every_zoo_memory_has_a_flop_formula() -> None:
    assert set(bench_train.MIXER_FLOPS) == set(registry.ZOO)
    for name in registry.ZOO:
        model = bench_train.build_model(name)
        assert bench_train.train_flops_per_token(name, model, 256) > 0
        assert bench_train.MIXER_FLOPS[name].__doc__


def test_attention_flops_by_hand() -> None:
    d, T, V, L = bench_train.D_MODEL, 256, bench_train.VOCAB, bench_train.N_LAYERS
    forward = L * (8 * d * d + 4 * d * (T + 1) / 2 + 16 * d * d) + 2 * d * V
    model = bench_train.build_model("attention")
    assert bench_train.train_flops_per_token("attention", model, T) == pytest.approx(3 * forward)
    assert bench_train._window_keys(10, 4) == pytest.approx((1 + 2 + 3 + 4 * 7) / 10)
    assert bench_train._segment_keys(8, 4) == pytest.approx(2.5)
