"""``python -m memnb.data prepare``: idempotent, reports what it built, one-line errors."""

import os
import subprocess
import sys

from memnb.cache import ROOT


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "memnb.data", *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def test_prepare_is_idempotent():
    run("prepare", "--no-progress")
    out = run("prepare", "--no-progress")
    assert out.returncode == 0, out.stderr
    lines = [line.split() for line in out.stdout.splitlines() if line.startswith("  ")]
    assert [parts[0] for parts in lines][:3] == ["sdist", "corpus", "tokenizer:char"]
    assert len(lines) == 10 and all(parts[1] == "cached" for parts in lines)


def test_errors_are_one_line(tmp_path):
    bad = tmp_path / "cache"
    bad.write_text("a file where the cache folder should be")
    out = run("prepare", "--no-progress", env={**os.environ, "MEMNB_CACHE": str(bad)})
    assert out.returncode == 1
    assert out.stderr.startswith("memnb.data prepare: error:") and out.stderr.count("\n") == 1
