"""Run chapters as Ray tasks: ``python -m memnb run all --executor ray [--address HOST:PORT]``.

Chapters are independent runs, so each one can be a Ray task. This process (the *driver*) does
everything ``runner.run_chapter`` does around the notebook — validation, the clean-tree rule, the
up-to-date check, the writability check — and, when the task returns, the same atomic publish
(``runner.publish_together``: the JSON and the executed notebook, both or neither) to the same
places (``results/<profile>/`` and the book's page, or ``runs/<profile>-custom/``). The task runs
``runner._execute`` (papermill, the kernel, ``env`` and ``wall_s`` measured where it ran) on the
node Ray picks and returns the two files instead of writing them, so a node needs no shared
filesystem with the driver, only the same code and data:

* no address: a local Ray on this machine (``num_cpus`` = its cores, no dashboard, nothing sent
  out: usage stats off); an address (``ray start --head`` prints it): that running cluster, whose
  every node has the repository at the same commit, the venv (``make venv``) and the data caches
  (``make data``); a task whose record names another commit than the driver's is refused;
* each task asks ``CPU_THREADS`` CPUs (the threads a chapter's torch uses), so a 2-core machine
  runs one chapter at a time, as the sequential runner does; at the ``gpu`` profile it also asks
  one GPU and checks CUDA on its node (``--allow-cpu``: no GPU asked). The GPU route is untested:
  no run on a GPU node exists yet;
* no per-step progress: one line per chapter as it finishes (in the order they finish); a failed
  chapter is a one-line error and the others go on; Ctrl-C cancels every task, nothing published
  for the unfinished ones.

Ray is imported only here, only for ``--executor ray``.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from memnb.book import runner
from memnb.seeding import CPU_THREADS

# Run settings a chapter's kernel inherits (determinism, offline, thread policy): the task takes
# the driver's, whatever the environment its Ray node was started in.
RUN_ENV = ("PYTHONHASHSEED", "OMP_WAIT_POLICY", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def import_ray():
    """Ray, or a one-line ``ChapterError`` naming the fix."""
    try:
        import ray
    except ImportError:
        raise runner.ChapterError(
            "--executor ray needs Ray, which is not installed in this environment; "
            "run `make venv` (Ray is pinned in requirements.txt) or `.venv/bin/pip install -r requirements.txt`"
        ) from None
    return ray


def chapter_task(
    nb, name: str, params: dict, key: tuple[str, dict], out: tuple[Path, Path], allow_cpu: bool, env: dict
) -> tuple:
    """What a Ray task runs (on any node): the notebook executed in a temp folder, the files to
    publish collected, not written. Returns ``(outcome, [(path, bytes)], error message or None)``."""
    files: list[tuple[Path, bytes]] = []
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    work = Path(tempfile.mkdtemp(prefix=f"memnb-{name}-"))
    try:
        runner.check_device(params["profile"], allow_cpu=allow_cpu)
        outcome = runner._execute(nb, name, params, key, work, out, False, publish=files.extend)
    except runner.ChapterError as e:
        return None, [], f"{e} (on node {socket.gethostname()})"
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return outcome, files, None


def _commit(record_bytes: bytes) -> str:
    import json

    return json.loads(record_bytes).get("env", {}).get("commit", "unknown")


def run_ray(
    names: list[str],
    profile: str,
    overrides: dict[str, str] | None = None,
    *,
    force: bool = False,
    allow_cpu: bool = False,
    address: str | None = None,
    init: dict[str, Any] | None = None,
    cpus: int = CPU_THREADS,
) -> Iterator[runner.RunOutcome | runner.ChapterError]:
    """Run ``names`` as Ray tasks; yield each chapter's ``RunOutcome`` (or its ``ChapterError``)
    as it finishes. ``init``: extra ``ray.init`` arguments for a local Ray (e.g. ``num_cpus``); a
    Ray the caller has initialised is used instead, and left running. ``cpus``: the CPUs each task
    asks (default ``CPU_THREADS``, the threads a chapter uses)."""
    ray = import_ray()
    from memnb.book.chapter import env_info

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ours = not ray.is_initialized()  # a caller's Ray (e.g. a test's) is used as it is and left running
    if ours and address and address != "auto":  # Ray itself retries an unreachable head for minutes
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except (OSError, ValueError) as e:
            raise runner.ChapterError(
                f"cannot reach a Ray head at {address} ({e}); give the address `ray start --head` "
                "printed (HOST:6379) from a machine that reaches it, or no --address for a local Ray"
            ) from None
    if ours:
        local = {"include_dashboard": False, **(init or {})} if address is None else {}
        try:
            ray.init(address=address, logging_level="ERROR", log_to_driver=False, **local)
        except (ConnectionError, RuntimeError, ValueError) as e:
            first = (str(e).strip().splitlines() or [""])[0]
            raise runner.ChapterError(
                f"cannot start or reach Ray at {address or 'a local instance'} ({first}); "
                "give the address `ray start --head` printed (HOST:6379), or none for a local Ray"
            ) from None
    stop, lock = threading.Event(), threading.Lock()
    refs: list = []
    try:
        gpus = 1 if profile == "gpu" and not allow_cpu else 0
        if gpus and ray.cluster_resources().get("GPU", 0) < 1:
            raise runner.ChapterError(
                "--profile gpu asks one GPU per chapter and this Ray cluster has none; "
                "connect to one with GPU nodes (--address), or pass --allow-cpu to run the gpu profile on CPUs"
            )
        task = ray.remote(chapter_task).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
        commit = env_info()["commit"]
        env = {k: os.environ[k] for k in RUN_ENV if k in os.environ}

        def execute(nb, name, params, key, work, out, progress):  # runner.run_chapter's execute hook
            with lock:  # no task starts after an interrupt has cancelled the others
                if stop.is_set():
                    raise runner.Interrupted("SIGINT")
                ref = task.remote(nb, name, params, key, out, allow_cpu, env)
                refs.append(ref)
            try:
                outcome, files, error = ray.get(ref)
            except ray.exceptions.RayError as e:  # the worker died (out of memory?), the node was lost, ...
                if stop.is_set():
                    raise runner.Interrupted("SIGINT") from None
                first = (str(e).strip().splitlines() or [""])[0]
                raise runner.ChapterError(
                    f"chapter {name}: its Ray task failed ({type(e).__name__}: {first}) -- nothing published"
                ) from None
            if error:
                raise runner.ChapterError(error)
            ran = _commit(next(data for path, data in files if path.suffix == ".json"))
            if ran != commit:
                raise runner.ChapterError(
                    f"chapter {name} ran at commit {ran} on its Ray node, this tree is at {commit} "
                    "-- nothing published; check out the same commit on every node"
                )
            runner.publish_together(files)
            return outcome

        def one(name):  # the driver's part runs here; the device check is the task's
            return runner.run_chapter(
                name, profile, overrides, force=force, progress=False, allow_cpu=True, execute=execute
            )

        with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            futures = [pool.submit(one, name) for name in names]
            try:
                for fut in as_completed(futures):
                    try:
                        yield fut.result()
                    except runner.ChapterError as e:
                        yield e
            except BaseException:  # Ctrl-C, SIGTERM, or the caller closed this generator
                with lock:
                    stop.set()
                for ref in refs:
                    ray.cancel(ref)  # the task gets KeyboardInterrupt: its kernel stops, its temp folder goes
                raise
    finally:
        if ours:
            ray.shutdown()
