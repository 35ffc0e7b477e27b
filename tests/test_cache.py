import json

import pytest

from memnb import cache


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMNB_CACHE", str(tmp_path))


def test_config_hash_is_stable_and_order_free():
    assert cache.config_hash({"a": 1, "b": [1, 2]}) == cache.config_hash({"b": [1, 2], "a": 1})
    assert cache.config_hash({"a": 1}) != cache.config_hash({"a": 2})


def test_cached_dir_builds_once():
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "x.txt").write_text("hello")

    a = cache.cached_dir("thing", {"v": 1}, build)
    b = cache.cached_dir("thing", {"v": 1}, build)
    assert a == b and len(calls) == 1 and (a / "x.txt").read_text() == "hello"
    assert json.loads((a / cache.RECORD).read_text()) == {"v": 1}
    assert cache.cached_dir("thing", {"v": 2}, build) != a and len(calls) == 2


def test_failed_build_leaves_nothing(tmp_path):
    def build(folder):
        (folder / "half.bin").write_bytes(b"12")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.cached_dir("thing", {"v": 3}, build)
    assert list((tmp_path / "thing").iterdir()) == []


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "r.json"
    cache.atomic_write_json(p, {"x": 1})
    cache.atomic_write_json(p, {"y": 2})
    assert json.loads(p.read_text()) == {"y": 2}
    assert [q.name for q in tmp_path.iterdir()] == ["r.json"]


def test_atomic_write_is_world_readable(tmp_path):
    p = tmp_path / "r.json"
    cache.atomic_write_json(p, {})
    assert p.stat().st_mode & 0o777 == 0o644


def test_damaged_folder_is_rebuilt_with_a_message(capsys):
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "a.txt").write_text("hello\nworld\n")

    a = cache.cached_dir("thing", {"v": 4}, build, checksums=True)
    assert sorted(json.loads((a / cache.FILES).read_text())) == ["a.txt"]
    cache.forget_verified()
    (a / "a.txt").write_text("hello\n")  # cut at a line boundary
    assert cache.cached_dir("thing", {"v": 4}, build, checksums=True) == a and len(calls) == 2
    assert (a / "a.txt").read_text() == "hello\nworld\n"
    err = capsys.readouterr().err
    assert err == f"memnb cache: thing/{a.name} is damaged (a.txt has 6 bytes, 12 when built); rebuilding it\n"
    cache.forget_verified()
    (a / "a.txt").write_text("hellO\nworld\n")  # same size, other content
    cache.cached_dir("thing", {"v": 4}, build, checksums=True)
    assert "a.txt differs from the built file (sha256)" in capsys.readouterr().err and len(calls) == 3
    (a / "a.txt").write_text("x")  # checked once per process: the next use trusts the check
    assert cache.cached_dir("thing", {"v": 4}, build, checksums=True) == a and len(calls) == 3
    assert not (cache.cached_dir("thing", {"v": 6}, build) / cache.FILES).exists()  # opt-in


def test_verify_covers_folders_without_a_file_list(capsys):
    def build(folder):
        (folder / "a.txt").write_text("ok")

    a = cache.cached_dir("thing", {"v": 5}, build)  # no file list: as built before they existed
    cache.forget_verified()
    (a / "a.txt").write_text("bad")
    verify = lambda folder: None if (folder / "a.txt").read_text() == "ok" else "a.txt is not ok"  # noqa: E731
    cache.cached_dir("thing", {"v": 5}, build, verify)
    assert (a / "a.txt").read_text() == "ok" and "(a.txt is not ok); rebuilding it" in capsys.readouterr().err
