"""Execute a chapter notebook with papermill and publish its results.

``run_chapter("01_baseline", "cpu", {"seeds": "[0, 1, 2]", "steps": "100"})``:

1. reads ``notebooks/<chapter>.py`` (jupytext percent format) and its ``parameters`` cell;
2. validates the profile, the seeds and every other override against the chapter's ``Preset``
   (``memnb.book.presets``: name, type, range; nothing runs otherwise); the notebook's
   ``parameters`` cell is always ``profile``, ``seeds`` and ``overrides`` (a dict). ``--profile
   gpu`` without CUDA is refused (``allow_cpu=True`` runs it on the CPU anyway);
3. decides where the run goes: a run with the profile's default parameters (an override equal to
   its default counts as none) is the published one, ``results/<profile>/<chapter>.json`` and
   the page, ``book/chapters/<chapter>.ipynb`` at ``cpu`` (committed beside ``results/cpu/``: the
   book a fresh clone renders without running anything) or ``book/chapters-<profile>/`` at the
   other profiles (``chapters-ci/`` is git-ignored: a smoke test, never the book); any other run is *custom* and goes to
   ``runs/<profile>-custom/<chapter>-<tag>.json`` and ``.ipynb`` beside it (``tag`` hashes the
   parameters), never over the published numbers. Both folders are checked writable first;
4. executes it with papermill (parameters injected after the ``parameters`` cell, the kernel over
   IPC sockets), with ``MEMNB_RESULTS_STAGING`` pointing at a temp file that ``Chapter.publish()``
   fills and ``MEMNB_PROGRESS`` at a log whose lines (step, loss, seed of the training loops) the
   runner relays to the console, so the executed notebook keeps no progress output;
5. only if every cell succeeded: writes the JSON (the staged record plus ``env`` and ``wall_s``)
   and the notebook (slimmed to commit, ``memnb.book.slim``) together, both or neither (each
   staged beside its target, then renamed). A failure leaves both untouched, keeps the failed
   notebook under ``runs/failed/`` and raises ``ChapterError`` naming the chapter, the cell (its
   number and heading) and the error. An interrupt (SIGINT, or SIGTERM through the CLI) removes
   the run's work folder and publishes nothing.

A chapter whose own inputs are unchanged since its last run is skipped: its notebook, the
``memnb`` modules it imports (transitively), the data recipe and its parameters
(``memnb.book.chapter_key``; the key and the inputs are stored in the executed notebook's
``metadata.memnb``, so a fresh clone checks them against the committed page); ``force=True``
reruns it.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import shlex
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memnb import profiles
from memnb.book import chapter_key, registration
from memnb.cache import ROOT, config_hash

NOTEBOOKS = ROOT / "notebooks"
BOOK_CHAPTERS = ROOT / "book" / "chapters"  # the published (cpu) pages, committed
BOOK_PROFILE = "cpu"  # the profile whose pages are the book; others go to book/chapters-<profile>/
RESULTS = ROOT / "results"
RUNS = ROOT / "runs"
FAILED = RUNS / "failed"


class ChapterError(RuntimeError):
    """A chapter could not be run; the message is meant for the person at the terminal."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM); nothing was published."""

    def __init__(self, signame: str = "SIGINT"):
        super().__init__(signame)
        self.signame = signame


def chapters() -> list[str]:
    """Every chapter name, in book order (``notebooks/NN_name.py``)."""
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def resolve_chapter(name: str) -> str:
    """A chapter name from its full name or a unique prefix (``"01"`` → ``"01_baseline"``)."""
    names = chapters()
    if name in names:
        return name
    hits = [n for n in names if n.startswith(name)]
    if len(hits) == 1:
        return hits[0]
    raise ChapterError(f"unknown chapter {name!r}; chapters: {', '.join(names)}")


def notebook_parameters(source: str) -> dict[str, Any]:
    """Names and default values assigned in the cell tagged ``parameters``."""
    import jupytext

    nb = jupytext.reads(source, fmt="py:percent")
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            out = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        out[target.id] = ast.literal_eval(node.value)
            return out
    raise ChapterError("notebook has no cell tagged 'parameters'")


def parse_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value: a Python literal (``3``, ``[1, 2]``, ``None``) or a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run_key(name: str, source: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The chapter's key and the inputs it hashes (``memnb.book.chapter_key``)."""
    record = chapter_key.inputs(name, source, params, ROOT)
    return chapter_key.key_of(record), record


def pages_dir(profile: str) -> Path:
    """Where a profile's published pages go: ``book/chapters/`` for the book's profile (``cpu``),
    ``book/chapters-<profile>/`` otherwise."""
    return BOOK_CHAPTERS if profile == BOOK_PROFILE else BOOK_CHAPTERS.with_name(f"{BOOK_CHAPTERS.name}-{profile}")


def page_status(name: str, source: str, params: dict[str, Any], out_json: Path, out_nb: Path) -> list[str]:
    """Why the page at ``out_nb`` must be (re)made: ``[]`` when it is up to date, else the
    reasons (``"no page"``, ``"no results"``, or the inputs that changed)."""
    import nbformat

    missing = [what for what, p in (("no page", out_nb), ("no results", out_json)) if not p.exists()]
    if missing:
        return missing
    key, record = run_key(name, source, params)
    meta = nbformat.read(out_nb, as_version=4).metadata.get("memnb", {})
    if meta.get("key") == key:
        return []
    return chapter_key.changed(meta.get("inputs"), record)


@dataclass
class RunOutcome:
    chapter: str
    profile: str
    status: str  # "ran" | "up to date"
    wall_s: float
    results: Path
    notebook: Path
    published: bool = True  # False: custom parameters, written under runs/<profile>-custom/
    reason: str = ""  # why it ran: the inputs that changed, "no page", "forced"


def rerun_note(name: str, params: dict[str, Any], record: dict, wall_s: float, results: str | None = None) -> str:
    """The "rerun this page" box each published chapter carries under its title: the runner
    command and the equivalent plain papermill command for exactly the parameters of this run
    (``results``: where its numbers are, by default ``results/<profile>/<name>.json``)."""
    profile = params["profile"]
    flags = {k: v for k, v in params.items() if k not in ("profile", "overrides")} | params.get("overrides", {})
    runner_p = "".join(f" -p {k} {shlex.quote(json.dumps(v))}" for k, v in flags.items())
    extra = {k: v for k, v in params.items() if k != "profile"}
    papermill_p = f" -y {shlex.quote(json.dumps(extra))}" if extra else ""
    commit = record.get("env", {}).get("commit", "?")
    results = results or f"results/{profile}/{name}.json"
    return (
        f":::{{admonition}} Rerun this page\n"
        f"This page is the notebook `notebooks/{name}.py` executed at profile `{profile}` with seeds "
        f"`{record.get('seeds')}` in {wall_s / 60:.1f} min (commit `{commit}`); its numbers are in "
        f"`{results}`. From the repository root, after `make data`:\n\n"
        f"```bash\n"
        f".venv/bin/python -m memnb run {name} --profile {profile}{runner_p}\n"
        f"# or the same with papermill alone:\n"
        f".venv/bin/jupytext --to ipynb -o - notebooks/{name}.py \\\n"
        f"  | .venv/bin/papermill - {name}.ipynb --cwd notebooks -p profile {profile}{papermill_p}\n"
        f"```\n"
        f'Other seeds: `-p seeds "[11, 12, 13]"`; the verdicts are recomputed from them. Only '
        f"`memnb run` with the profile's default parameters writes `results/` and this page; other "
        f"parameters go to `runs/<profile>-custom/` (papermill alone just executes the notebook).\n"
        f":::"
    )


def _children_cpu_s() -> float:
    """User + system CPU seconds of this process's finished children (the notebook kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PARAMETERS_CELL = ("profile", "seeds", "overrides")  # every chapter's parameters cell, nothing else


def check_device(profile: str, *, allow_cpu: bool = False) -> None:
    """Refuse ``--profile gpu`` without CUDA: it would silently run hours on the CPU."""
    if profile != "gpu" or allow_cpu:
        return
    import torch

    if not torch.cuda.is_available():
        raise ChapterError(
            "--profile gpu needs a CUDA GPU and torch sees none (torch.cuda.is_available() is False); "
            "use --profile cpu, or pass --allow-cpu to run the gpu profile on the CPU (hours per chapter)"
        )


def prepare(chapter: str, profile: str, overrides: dict[str, str], *, allow_cpu: bool = False) -> tuple[str, str, dict]:
    """Validate everything before running: returns (name, source, parameters to inject).

    ``overrides`` are the ``-p NAME VALUE`` pairs: ``seeds`` is injected as itself, every other
    name is checked against the chapter's ``Preset`` (name, type, range) and injected inside the
    notebook's ``overrides`` dict. An override equal to the profile's default is dropped, so the
    parameters returned are ``{"profile": ...}`` alone exactly when the run is the published one."""
    try:
        profiles.check_profile(profile)
    except ValueError as e:
        raise ChapterError(str(e)) from None
    name = resolve_chapter(chapter)
    source = (NOTEBOOKS / f"{name}.py").read_text()
    cell = notebook_parameters(source)
    if tuple(cell) != PARAMETERS_CELL:
        raise ChapterError(f"{name}: the parameters cell must set exactly {', '.join(PARAMETERS_CELL)}")
    if "profile" in overrides:
        raise ChapterError("set the profile with --profile, not -p profile")
    values = {k: parse_value(v) for k, v in overrides.items()}
    seeds = values.pop("seeds", None)
    try:
        from memnb.book.presets import preset_class

        preset = preset_class(name)
        default_seeds = profiles.resolve_seeds(profile, None, preset.SEEDS)
        seeds = None if seeds is None else profiles.resolve_seeds(profile, seeds, preset.SEEDS)
        resolved = preset.resolve(profile, values).as_dict()
        defaults = preset.resolve(profile).as_dict()
    except ValueError as e:
        raise ChapterError(f"{name}: {e}") from None
    check_device(profile, allow_cpu=allow_cpu)
    params: dict[str, Any] = {"profile": profile}
    if seeds is not None and seeds != default_seeds:
        params["seeds"] = seeds
    changed = {k: resolved[k] for k in values if resolved[k] != defaults[k]}
    if changed:
        params["overrides"] = changed
    return name, source, params


def is_published(params: dict[str, Any]) -> bool:
    """A run with the profile's default parameters (``prepare`` drops overrides equal to them)."""
    return set(params) == {"profile"}


def outputs(name: str, params: dict[str, Any]) -> tuple[Path, Path]:
    """Where a run's (results JSON, executed notebook) go: the published places for the
    profile's defaults, ``runs/<profile>-custom/<name>-<tag>.{json,ipynb}`` for anything else."""
    profile = params["profile"]
    if is_published(params):
        return RESULTS / profile / f"{name}.json", pages_dir(profile) / f"{name}.ipynb"
    stem = RUNS / f"{profile}-custom" / f"{name}-{config_hash(params, 8)}"
    return stem.with_suffix(".json"), stem.with_suffix(".ipynb")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def check_writable(*folders: Path) -> None:
    """Each folder (or, where it does not exist yet, its nearest existing parent, so nothing is
    created here) takes a new file, or a one-line ``ChapterError``: found before any training."""
    for folder in folders:
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            if not probe.is_dir():
                raise NotADirectoryError(20, f"{_rel(probe)} is a file")
            with tempfile.TemporaryFile(dir=probe, prefix=".memnb-write-check-"):
                pass
        except OSError as e:
            raise ChapterError(
                f"cannot write to {_rel(folder)}/ ({e.strerror or e}); make it a writable folder "
                f"(e.g. chmod u+w {_rel(probe)}) and rerun -- nothing ran"
            ) from None


def publish_together(files: list[tuple[Path, bytes]]) -> None:
    """Write every ``(path, data)`` or none: each is staged as a temp file beside its target (so
    every folder has taken a file before any target changes), then renamed into place; if a
    rename fails, the targets already replaced get their old content back."""
    staged: list[tuple[Path, Path]] = []
    done: list[tuple[Path, bytes | None]] = []
    try:
        for path, data in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((Path(tmp), path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would make published results private
        for tmp, path in staged:
            old = path.read_bytes() if path.exists() else None
            os.replace(tmp, path)
            done.append((path, old))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for path, old in reversed(done):
            if old is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(old)
        raise


def _heading_above(cells: list, index: int) -> str:
    """The last markdown heading at or above cell ``index`` (``"## Training"``), or ''."""
    for cell in reversed(cells[: index + 1]):
        if cell.cell_type == "markdown":
            heads = [line.strip() for line in cell.source.splitlines() if line.lstrip().startswith("#")]
            if heads:
                return heads[-1]
    return ""


def failed_cell(nb, cell_index: int | None) -> str:
    """``cell 16 of 28 (under "## Training")``: the failing cell by its number in the chapter's
    own notebook (the injected parameters cell not counted) and the heading it sits under."""
    tags = lambda c: c.get("metadata", {}).get("tags", [])  # noqa: E731
    cells = [c for c in (nb.cells if nb is not None else []) if "papermill-error-cell-tag" not in tags(c)]
    if cell_index is None or not 0 <= cell_index < len(cells):
        return "an unknown cell"
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in tags(c)]
    number = cell_index + 1 - sum(1 for i in injected if i < cell_index)
    heading = _heading_above(cells, cell_index).lstrip("#").strip()
    where = f' (under "{heading}")' if heading else " (before the first heading)"
    return f"cell {number} of {len(cells) - len(injected)}{where}"


class _ProgressRelay:
    """Prints the lines the chapter's training loops append to ``path`` (``MEMNB_PROGRESS``) on
    the console while the kernel runs, above papermill's cells bar."""

    def __init__(self, path: Path, name: str, show: bool):
        self.path, self.name, self.show = path, name, show
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.path.touch()
        if self.show:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        from tqdm import tqdm

        with open(self.path, encoding="utf-8", errors="replace") as f:
            buf = ""
            while True:
                chunk = f.read()
                buf += chunk
                *lines, buf = buf.split("\n")
                for line in lines:
                    if line.strip():
                        tqdm.write(f"  {self.name}: {line}", file=sys.stderr)
                if not chunk:
                    if self._stop.is_set():
                        return
                    self._stop.wait(0.5)


def _kernel_options(log: Path) -> dict[str, Any]:
    """papermill options for the kernel: it talks over IPC sockets (files only this user can
    open), not unencrypted TCP, so ipykernel's "running over TCP without encryption" warning is
    gone and with it a real exposure; and its own stderr (its log, e.g. the errors it prints when
    a run is interrupted under it) goes to ``log``, not over the runner's one-line messages."""
    from jupyter_client import AsyncKernelManager
    from traitlets.config import Config

    class KernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            with open(log, "ab") as f:
                return await super()._async_launch_kernel(kernel_cmd, **kw, stdout=f, stderr=f)

    # The sockets' names, absolute and this run's own (default: "kernel-ipc-N" in notebooks/, which two
    # runs at once, e.g. Ray tasks, both took: one kernel stole the other's sockets); 107 bytes at most.
    ipc = str(log.parent / "kernel") if len(str(log.parent)) < 96 else tempfile.mktemp(prefix="memnb-kernel-")
    config = Config({"KernelManager": {"transport": "ipc", "ip": ipc}})
    return {"config": config, "kernel_manager_class": KernelManager}


def _settle(loop, tasks: list) -> None:
    """Cancel the ``tasks`` still pending on ``loop``, wait for them to end, and retrieve every
    exception among them, so that asyncio has nothing left to print ("Task exception was never
    retrieved")."""
    import asyncio

    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    for _ in range(3):  # a task being cancelled may start others (tracked too); nbclient's end at once
        if not pending:
            break
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
        pending = [t for t in tasks if not t.done()]
        for task in pending:
            task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # marks it retrieved: e.g. DeadKernelError, or the signal's own exception


def _engine() -> str:
    """The name of papermill's nbclient engine with a notebook client that settles its asyncio
    tasks when a signal stops it (registered here, as ``memnb``).

    A SIGTERM or Ctrl-C raised in the runner while a cell executes leaves that cell's asyncio tasks
    (nbclient's ``async_execute_cell`` and its pollers of the kernel's reply, outputs and
    liveness) pending on the event loop; nbclient then shuts the kernel down on that same loop,
    the tasks wake up to a dead kernel or to the interrupted cell's reply, and asyncio prints their
    exceptions ("Task exception was never retrieved" and a traceback) under the runner's one
    line. This client tracks the tasks it creates and, on any exception out of the notebook's
    execution, cancels and awaits them (``_settle``) before nbclient shuts the kernel down."""
    import asyncio
    from contextlib import contextmanager

    from jupyter_core.utils import ensure_event_loop
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class Client(PapermillNotebookClient):
        @contextmanager
        def setup_kernel(self, **kwargs: Any):
            loop = ensure_event_loop()  # the loop nbclient's run_sync runs everything on, in this thread
            if loop.is_running():  # nbclient then runs on a thread of its own: nothing to track here
                with super().setup_kernel(**kwargs):
                    yield
                return
            tasks: list = []
            previous = loop.get_task_factory()

            def track(loop, coro, **kw):
                task = previous(loop, coro, **kw) if previous else asyncio.Task(coro, loop=loop, **kw)
                tasks.append(task)
                return task

            loop.set_task_factory(track)
            try:
                with super().setup_kernel(**kwargs):  # on the way out: the kernel shut down
                    try:
                        yield
                    except BaseException:
                        _settle(loop, tasks)  # before the shutdown runs the loop again
                        raise
            finally:
                loop.set_task_factory(previous)

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):  # NBClientEngine's (papermill 2.x), with the client above
            kwargs = remove_args(["input_path"], **kwargs)
            final_kwargs = merge_kwargs(
                remove_args(["timeout", "startup_timeout"], **kwargs),
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            return Client(nb_man, **final_kwargs).execute()

    papermill_engines.register("memnb", Engine)
    return "memnb"


def run_chapter(
    chapter: str,
    profile: str = profiles.DEFAULT_PROFILE,
    overrides: dict[str, str] | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    allow_cpu: bool = False,
    execute=None,  # runs the notebook and publishes: _execute by default; memnb.book.executors sends it to Ray
) -> RunOutcome:
    import jupytext

    name, source, params = prepare(chapter, profile, overrides or {}, allow_cpu=allow_cpu)
    published = is_published(params)
    key, inputs = run_key(name, source, params)
    out_json, out_nb = outputs(name, params)
    reasons = ["forced"] if force else page_status(name, source, params, out_json, out_nb)
    if not reasons:  # an up-to-date page needs no clean tree: nothing is written
        return RunOutcome(name, profile, "up to date", 0.0, out_json, out_nb, published)
    if published:
        try:
            registration.require_clean_tree(profile)
        except registration.RegistrationError as e:
            raise ChapterError(f"{name}: {e}") from None
    check_writable(RUNS, out_json.parent, out_nb.parent)

    nb = jupytext.reads(source, fmt="py:percent")
    RUNS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=RUNS))
    try:
        outcome = (execute or _execute)(nb, name, params, (key, inputs), work, (out_json, out_nb), progress)
        outcome.reason = ", ".join(reasons)
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _execute(
    nb,
    name: str,
    params: dict,
    key: tuple[str, dict],
    work: Path,
    out: tuple[Path, Path],
    progress: bool,
    publish=None,
) -> RunOutcome:
    """Execute ``nb`` in the work folder ``work``, then publish it to ``out`` (JSON, notebook) with
    ``publish`` (default ``publish_together``; a Ray task collects the files for the driver instead)."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    profile, (out_json, out_nb), published = params["profile"], out, is_published(params)
    staging = work / "results.json"
    executed = work / f"{name}.ipynb"
    log = work / "progress.log"
    saved_env = {k: os.environ.get(k) for k in ("MEMNB_RESULTS_STAGING", "MEMNB_PROGRESS", "OMP_WAIT_POLICY")}
    os.environ["MEMNB_RESULTS_STAGING"] = str(staging)
    os.environ["MEMNB_PROGRESS"] = str(log)  # progress lines go to this log (relayed here), not to the pages
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # kernels are new processes: idle threads sleep
    t0, cpu0, load0 = time.perf_counter(), _children_cpu_s(), os.getloadavg()[0]
    try:
        with _ProgressRelay(log, name, progress):
            papermill.execute_notebook(
                nb,
                str(executed),
                parameters=params,
                kernel_name="python3",
                cwd=str(NOTEBOOKS),
                progress_bar=progress,
                request_save_on_cell_execute=False,
                engine_name=_engine(),
                **_kernel_options(work / "kernel.log"),
            )
    except PapermillExecutionError as e:
        if e.ename == "KeyboardInterrupt":  # the kernel got the terminal's Ctrl-C first
            raise Interrupted("SIGINT") from None
        FAILED.mkdir(parents=True, exist_ok=True)
        done = nbformat.read(executed, as_version=4) if executed.exists() else None
        if executed.exists():
            shutil.copy(executed, FAILED / f"{name}.ipynb")
        if (work / "kernel.log").exists():
            shutil.copy(work / "kernel.log", FAILED / f"{name}.kernel.log")
        raise ChapterError(
            f"chapter {name} failed in {failed_cell(done, e.cell_index)}: {e.ename}: {e.evalue} "
            f"-- nothing published; see {_rel(FAILED / f'{name}.ipynb')}"
        ) from None
    except (KeyboardInterrupt, ChapterError):
        raise
    except Exception as e:  # the kernel died (out of memory, a crash) or would not start
        FAILED.mkdir(parents=True, exist_ok=True)
        if (work / "kernel.log").exists():
            shutil.copy(work / "kernel.log", FAILED / f"{name}.kernel.log")
        first = (str(e).strip().splitlines() or [""])[0]
        raise ChapterError(
            f"chapter {name}: the kernel stopped ({type(e).__name__}: {first}) "
            f"-- nothing published; its log is {_rel(FAILED / f'{name}.kernel.log')} (out of memory? see dmesg)"
        ) from None
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    wall_s = round(time.perf_counter() - t0, 1)
    # The kernel's CPU seconds and the machine's load say how far a wall time was inflated by
    # other jobs (for one-thread chapters, CPU seconds ≈ the wall time on a quiet machine).
    timing = {"kernel_cpu_s": round(_children_cpu_s() - cpu0, 1), "loadavg_1min": [load0, os.getloadavg()[0]]}

    if not staging.exists():
        raise ChapterError(f"chapter {name} ran but never called ch.publish(); nothing published")
    record = json.loads(staging.read_text())
    if record.get("chapter") != name or record.get("profile") != profile:
        raise ChapterError(
            f"chapter {name}: published record says chapter={record.get('chapter')!r} "
            f"profile={record.get('profile')!r}; expected {name!r}/{profile!r}"
        )
    from memnb.book.chapter import env_info
    from memnb.book.slim import slim

    keys = ["schema", "chapter", "profile", "seeds", "params"]
    ordered = {k: record[k] for k in keys} | {"env": env_info() | timing, "wall_s": wall_s}
    ordered |= {k: v for k, v in record.items() if k not in keys}
    done = nbformat.read(executed, as_version=4)
    done.metadata["memnb"] = {"key": key[0], "profile": profile, "params": params, "published": published}
    done.metadata["memnb"]["inputs"] = key[1]  # what the key hashes: a stale page names what changed
    slim(done, source=f"notebooks/{name}.py")
    note = nbformat.v4.new_markdown_cell(rerun_note(name, params, ordered, wall_s, _rel(out_json)))
    done.cells.insert(1 if done.cells and done.cells[0].cell_type == "markdown" else 0, note)
    (publish or publish_together)(
        [
            (out_json, (json.dumps(ordered, indent=2, sort_keys=False) + "\n").encode()),
            (out_nb, nbformat.writes(done).encode()),
        ]
    )
    return RunOutcome(name, profile, "ran", wall_s, out_json, out_nb, published)
