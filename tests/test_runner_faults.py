"""Bad input and faults fail fast with one line naming the fix, and lose nothing: a table of the
CLI's bad inputs (none runs a kernel), unwritable targets found before the run, publication of
both files or neither, and interrupted runs that clean up after themselves."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from memnb import __main__ as cli
from memnb.book import presets, runner
from memnb.cache import ROOT
from memnb.profiles import Preset, per_profile

FOLDERS = {"NOTEBOOKS": "notebooks", "BOOK_CHAPTERS": "book/chapters", "RESULTS": "results", "RUNS": "runs"}


@dataclass(frozen=True)
class Toy(Preset):
    n: int = per_profile(ci=4, cpu=8, low=1)
    lengths: list[int] = per_profile(ci=[8], cpu=[8, 16], low=1)


SLEEPER = """# ---
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
# ## Waiting

# %%
import pathlib
import time

pathlib.Path("../started").write_text("yes")
time.sleep(120)
"""


@pytest.fixture
def book(tmp_path, monkeypatch):
    for name, folder in FOLDERS.items():
        monkeypatch.setattr(runner, name, tmp_path / folder)
    monkeypatch.setattr(runner, "FAILED", tmp_path / "runs" / "failed")
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    monkeypatch.setitem(presets.PRESETS, "99_toy", Toy)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "99_toy.py").write_text(SLEEPER)
    return tmp_path


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def one_line_error(capsys, argv: list[str]) -> str:
    rc = cli.main(argv)
    err = capsys.readouterr().err
    assert rc == 1, err
    assert err.startswith("memnb: ") and err.count("\n") == 1, err
    return err.strip()


BAD_TOY = [  # (argv after "run", what the one line must say)
    (["99", "--profile", "laptop"], "unknown profile 'laptop'; valid profiles: ci, cpu, gpu"),
    (["zz", "--profile", "ci"], "unknown chapter 'zz'"),
    (["99", "--profile", "ci", "-p", "steps", "3"], r"unknown parameter(s) steps; valid: n, lengths"),
    (["99", "--profile", "ci", "-p", "n", "abc"], "99_toy: parameter n='abc': expected int"),
    (["99", "--profile", "ci", "-p", "n", "2.5"], "99_toy: parameter n=2.5: expected int"),
    (["99", "--profile", "ci", "-p", "n", "0"], "99_toy: parameter n=0: must be >= 1"),
    (["99", "--profile", "ci", "-p", "lengths", "1024"], "99_toy: parameter lengths=1024: expected list[int]"),
    (["99", "--profile", "ci", "-p", "lengths", "[8, 0]"], "99_toy: parameter lengths=[8, 0]: must be >= 1"),
    (["99", "--profile", "ci", "-p", "seeds", "[1, 1]"], "99_toy: seeds must be distinct"),
    (["99", "--profile", "ci", "-p", "seeds", "abc"], "99_toy: seeds must be a non-empty list of non-negative ints"),
    (["99", "--profile", "ci", "-p", "profile", "cpu"], "set the profile with --profile, not -p profile"),
    (["99", "--profile", "gpu"], "--profile gpu needs a CUDA GPU and torch sees none"),
    (["99", "--profile", "ci", "--bogus"], "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(("argv", "says"), BAD_TOY, ids=[" ".join(a) for a, _ in BAD_TOY])
def test_bad_input_is_one_line_and_touches_nothing(book, capsys, monkeypatch, argv, says):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (book / "results" / "ci").mkdir(parents=True)
    (book / "results" / "ci" / "99_toy.json").write_text("{}")
    before = tree(book)
    try:
        err = one_line_error(capsys, ["run", *argv])
    except SystemExit as e:  # argparse errors leave through SystemExit, also one line
        err = str(e)
    assert says in err
    assert tree(book) == before  # no results, no pages, no runs/ folders


REAL = [  # the reports in issue 20, against the real chapters: refused before any kernel starts
    (["01", "-p", "steps", "abc"], "01_baseline: parameter steps='abc': expected int"),
    (["12", "-p", "n_eval", "abc"], "12_drex_model: parameter n_eval='abc': expected int"),
    (["12", "-p", "beyond_lengths", "1024"], "12_drex_model: parameter beyond_lengths=1024: expected list[int]"),
]


@pytest.mark.parametrize(("argv", "says"), REAL, ids=[" ".join(a) for a, _ in REAL])
def test_real_chapters_refuse_bad_parameters(capsys, argv, says):
    before = tree(ROOT / "results")
    assert one_line_error(capsys, ["run", *argv, "--profile", "ci"]) == f"memnb: {says}"
    assert tree(ROOT / "results") == before


def test_gpu_profile_without_cuda_needs_the_flag(book, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(runner.ChapterError, match="pass --allow-cpu"):
        runner.prepare("99", "gpu", {})
    assert runner.prepare("99", "gpu", {}, allow_cpu=True)[2] == {"profile": "gpu"}


@pytest.mark.parametrize("blocked", ["results/ci", "book/chapters-ci", "runs"])
def test_unwritable_targets_are_found_before_running(book, capsys, blocked):
    (book / blocked).parent.mkdir(parents=True, exist_ok=True)
    (book / blocked).write_text("a file where a folder should be")
    before = tree(book)
    err = one_line_error(capsys, ["run", "99", "--profile", "ci"])
    assert f"cannot write to {blocked}/" in err and "nothing ran" in err
    assert tree(book) == before


def test_publish_together_writes_both_or_neither(tmp_path, monkeypatch):
    a, b = tmp_path / "results" / "x.json", tmp_path / "book" / "x.ipynb"
    runner.publish_together([(a, b"old a"), (b, b"old b")])
    (tmp_path / "blocked").write_text("file")
    with pytest.raises(OSError):
        runner.publish_together([(a, b"new a"), (tmp_path / "blocked" / "x.ipynb", b"new b")])
    assert a.read_bytes() == b"old a"
    real_replace = os.replace

    def failing_second(src, dst):
        if Path(dst) == b:
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(runner.os, "replace", failing_second)
    with pytest.raises(PermissionError):
        runner.publish_together([(a, b"new a"), (b, b"new b")])
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")  # a was restored
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["blocked", "x.ipynb", "x.json"]


DRIVER = """
import signal
import sys
from pathlib import Path

# A child inherits ignored signals from its parent: start from a terminal's default Ctrl-C
# whatever an earlier test left in the pytest process.
signal.signal(signal.SIGINT, signal.default_int_handler)

from memnb.book import presets, runner
from memnb.profiles import Preset

root = Path(sys.argv[1])
for name, folder in {folders!r}.items():
    setattr(runner, name, root / folder)
runner.FAILED, runner.ROOT = root / "runs" / "failed", root
presets.PRESETS["99_toy"] = type("Toy", (Preset,), {{}})
from memnb.__main__ import main

rc = main(sys.argv[2:])
# An asyncio task the run left on its event loop (nbclient's, for the cell that was executing) wakes
# up whenever that loop runs again, e.g. while the kernel is being shut down, and its exception is
# then printed as "Task exception was never retrieved" and a traceback: whether that happened in the
# run was a race. Run the loop for longer than nbclient's 1 s kernel-alive poll, then collect, so a
# task left behind shows up on stderr every time.
import asyncio
import gc

from jupyter_core.utils import ensure_event_loop

ensure_event_loop().run_until_complete(asyncio.sleep(1.5))
gc.collect()
sys.exit(rc)
"""


@pytest.mark.parametrize(("sig", "rc"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_is_one_line_and_leaves_nothing(tmp_path, sig, rc):
    _interrupted_run(tmp_path / "run", sig, rc)


def _interrupted_run(tmp_path, sig, rc):
    tmp_path.mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "99_toy.py").write_text(SLEEPER)
    (tmp_path / "results" / "ci").mkdir(parents=True)
    (tmp_path / "results" / "ci" / "99_toy.json").write_text('{"old": true}')
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER.format(folders=FOLDERS)))
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(tmp_path), "run", "99", "--profile", "ci", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: SIGINT goes to it and its kernel, like Ctrl-C
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # the terminal's Ctrl-C reaches the runner and the kernel
    else:
        proc.send_signal(sig)  # kill <pid>: the runner alone
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == rc, err
    assert "Traceback" not in err and "Task exception was never retrieved" not in err, err
    assert err == f"memnb: interrupted ({sig.name}); nothing published, results/ and the book as they were\n"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == []  # no .99_toy-* work folder left
    assert (tmp_path / "results" / "ci" / "99_toy.json").read_text() == '{"old": true}'
    assert not (tmp_path / "book").exists()


def test_a_dead_kernel_is_one_line_naming_its_log(book):
    (book / "notebooks" / "99_toy.py").write_text(SLEEPER.replace("time.sleep(120)", "import os\n\nos._exit(3)"))
    with pytest.raises(runner.ChapterError, match=r"99_toy: the kernel stopped \(DeadKernelError.*runs/failed/99_toy"):
        runner.run_chapter("99", "ci", {}, progress=False)
    assert not (book / "results").exists() and [p.name for p in (book / "runs").iterdir()] == ["failed"]
