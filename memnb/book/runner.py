"""Execute a chapter notebook with papermill and publish its results.

``run_chapter("01_baseline", "cpu", {"seeds": "[0, 1, 2]", "steps": "100"})``:

1. reads ``notebooks/<chapter>.py`` (jupytext percent format) and its ``parameters`` cell;
2. validates the profile, the seeds and every other override against the chapter's ``Preset``
   (``memnb.book.presets``: name, type, range; nothing runs otherwise); the notebook's
   ``parameters`` cell is always ``profile``, ``seeds`` and ``overrides`` (a dict);
3. executes it with papermill (parameters injected after the ``parameters`` cell), with
   ``MEMNB_RESULTS_STAGING`` pointing at a temp file that ``Chapter.publish()`` fills;
4. only if every cell succeeded: writes ``results/<profile>/<chapter>.json`` (the staged
   record plus ``env`` and ``wall_s``) and ``book/chapters/<chapter>.ipynb``, each by an atomic
   rename. A failure leaves both untouched, keeps the failed notebook under ``runs/failed/``
   for inspection, and raises ``ChapterError`` naming the chapter and the cell.

A chapter whose source, parameters and ``memnb`` package are unchanged since its last run is
skipped (the key is stored in the executed notebook's metadata); ``force=True`` reruns it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import resource
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memnb import profiles
from memnb.book import registration
from memnb.cache import ROOT, atomic_write_json

NOTEBOOKS = ROOT / "notebooks"
BOOK_CHAPTERS = ROOT / "book" / "chapters"
RESULTS = ROOT / "results"
FAILED = ROOT / "runs" / "failed"


class ChapterError(RuntimeError):
    """A chapter could not be run; the message is meant for the person at the terminal."""


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


def _package_digest() -> str:
    h = hashlib.sha256()
    for path in sorted((ROOT / "memnb").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def run_key(source: str, profile: str, params: dict[str, Any]) -> str:
    blob = json.dumps([source, profile, params, _package_digest()], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class RunOutcome:
    chapter: str
    profile: str
    status: str  # "ran" | "up to date"
    wall_s: float
    results: Path
    notebook: Path


def rerun_note(name: str, params: dict[str, Any], record: dict, wall_s: float) -> str:
    """The "rerun this page" box each published chapter carries under its title: the runner
    command and the equivalent plain papermill command for exactly the parameters of this run."""
    profile = params["profile"]
    flags = {k: v for k, v in params.items() if k not in ("profile", "overrides")} | params.get("overrides", {})
    runner_p = "".join(f" -p {k} {shlex.quote(json.dumps(v))}" for k, v in flags.items())
    extra = {k: v for k, v in params.items() if k != "profile"}
    papermill_p = f" -y {shlex.quote(json.dumps(extra))}" if extra else ""
    commit = record.get("env", {}).get("commit", "?")
    return (
        f":::{{admonition}} Rerun this page\n"
        f"This page is the notebook `notebooks/{name}.py` executed at profile `{profile}` with seeds "
        f"`{record.get('seeds')}` in {wall_s / 60:.1f} min (commit `{commit}`); its numbers are in "
        f"`results/{profile}/{name}.json`. From the repository root, after `make data`:\n\n"
        f"```bash\n"
        f".venv/bin/python -m memnb run {name} --profile {profile}{runner_p}\n"
        f"# or the same with papermill alone:\n"
        f".venv/bin/jupytext --to ipynb -o - notebooks/{name}.py \\\n"
        f"  | .venv/bin/papermill - {name}.ipynb --cwd notebooks -p profile {profile}{papermill_p}\n"
        f"```\n"
        f'Other seeds: `-p seeds "[11, 12, 13]"`; the verdicts are recomputed from them. Only '
        f"`memnb run` writes `results/` and this page (papermill alone just executes the notebook).\n"
        f":::"
    )


def _children_cpu_s() -> float:
    """User + system CPU seconds of this process's finished children (the notebook kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PARAMETERS_CELL = ("profile", "seeds", "overrides")  # every chapter's parameters cell, nothing else


def prepare(chapter: str, profile: str, overrides: dict[str, str]) -> tuple[str, str, dict]:
    """Validate everything before running: returns (name, source, parameters to inject).

    ``overrides`` are the ``-p NAME VALUE`` pairs: ``seeds`` is injected as itself, every other
    name is checked against the chapter's ``Preset`` (name, type, range) and injected inside the
    notebook's ``overrides`` dict."""
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
        profiles.resolve_seeds(profile, seeds)
        from memnb.book.presets import preset_class

        preset_class(name).resolve(profile, values)
    except ValueError as e:
        raise ChapterError(f"{name}: {e}") from None
    params: dict[str, Any] = {"profile": profile}
    if seeds is not None:
        params["seeds"] = seeds
    if values:
        params["overrides"] = values
    return name, source, params


def run_chapter(
    chapter: str,
    profile: str = profiles.DEFAULT_PROFILE,
    overrides: dict[str, str] | None = None,
    *,
    force: bool = False,
    progress: bool = True,
) -> RunOutcome:
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    name, source, params = prepare(chapter, profile, overrides or {})
    try:
        registration.require_clean_tree(profile)
    except registration.RegistrationError as e:
        raise ChapterError(f"{name}: {e}") from None
    key = run_key(source, profile, params)
    out_nb = BOOK_CHAPTERS / f"{name}.ipynb"
    out_json = RESULTS / profile / f"{name}.json"
    if not force and out_nb.exists() and out_json.exists():
        meta = nbformat.read(out_nb, as_version=4).metadata.get("memnb", {})
        if meta.get("key") == key:
            return RunOutcome(name, profile, "up to date", 0.0, out_json, out_nb)

    nb = jupytext.reads(source, fmt="py:percent")
    (ROOT / "runs").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=ROOT / "runs"))
    staging = work / "results.json"
    executed = work / f"{name}.ipynb"
    saved_env = {k: os.environ.get(k) for k in ("MEMNB_RESULTS_STAGING", "MEMNB_PROGRESS", "OMP_WAIT_POLICY")}
    os.environ["MEMNB_RESULTS_STAGING"] = str(staging)
    os.environ["MEMNB_PROGRESS"] = "0"  # no tqdm bars in the published pages
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # kernels are new processes: idle threads sleep
    t0, cpu0, load0 = time.perf_counter(), _children_cpu_s(), os.getloadavg()[0]
    try:
        papermill.execute_notebook(
            nb,
            str(executed),
            parameters=params,
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=progress,
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as e:
        FAILED.mkdir(parents=True, exist_ok=True)
        if executed.exists():
            shutil.copy(executed, FAILED / f"{name}.ipynb")
        shutil.rmtree(work, ignore_errors=True)
        first = (e.source or "").strip().splitlines()[:1]
        raise ChapterError(
            f"chapter {name} failed in cell [{e.exec_count}] ({first[0] if first else ''!s}): "
            f"{e.ename}: {e.evalue} -- nothing published; see runs/failed/{name}.ipynb"
        ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
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

    try:
        if not staging.exists():
            raise ChapterError(f"chapter {name} ran but never called ch.publish(); nothing published")
        record = json.loads(staging.read_text())
        if record.get("chapter") != name or record.get("profile") != profile:
            raise ChapterError(
                f"chapter {name}: published record says chapter={record.get('chapter')!r} "
                f"profile={record.get('profile')!r}; expected {name!r}/{profile!r}"
            )
        from memnb.book.chapter import env_info

        keys = ["schema", "chapter", "profile", "seeds", "params"]
        ordered = {k: record[k] for k in keys} | {"env": env_info() | timing, "wall_s": wall_s}
        ordered |= {k: v for k, v in record.items() if k not in keys}
        done = nbformat.read(executed, as_version=4)
        done.metadata["memnb"] = {"key": key, "profile": profile, "params": params}
        note = nbformat.v4.new_markdown_cell(rerun_note(name, params, ordered, wall_s))
        done.cells.insert(1 if done.cells and done.cells[0].cell_type == "markdown" else 0, note)
        nbformat.write(done, executed)
        atomic_write_json(out_json, ordered)
        out_nb.parent.mkdir(parents=True, exist_ok=True)
        os.replace(executed, out_nb)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RunOutcome(name, profile, "ran", wall_s, out_json, out_nb)
