"""Assemble the book's source for one profile from the pages published so far, running nothing.

``python -m memnb.book.site --profile cpu [--out _build/site/cpu]`` (``make html`` runs it, then
``jupyter-book build`` on the folder) copies into ``out``:

- ``_config.yml``, ``_toc.yml`` and the hand-written pages of ``book/`` (intro, method, rerun,
  the appendix), with the same layout, so every link resolves as in the repository;
- each chapter's published page, ``book/chapters/<chapter>.ipynb`` at ``cpu`` (committed:
  the book a fresh clone renders in a minute) or ``book/chapters-<profile>/`` otherwise (``ci``:
  a smoke test of one seed, never the book). A page whose inputs changed since it ran
  (``memnb.book.chapter_key``) is rendered as it is, under a warning naming what changed; a
  chapter with no page gets a note page saying so and how to make it (``make book`` runs every
  missing or stale chapter first);
- the claims ledger and the landing figures (``memnb.book.ledger``, ``memnb.book.landing``),
  from ``results/<profile>/``; at a profile other than ``cpu`` the landing page opens with a
  banner saying that it is a smoke test.

It prints one line per chapter (published, stale: what changed, or missing) and a total.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from memnb.book import runner
from memnb.cache import ROOT

SITE = ROOT / "_build" / "site"
GENERATED = ("_build", "chapters", "chapters-*", "ledger.md", "_ledger_summary.md", "_key_figures.md", "_*.png")


def title(source: str, name: str) -> str:
    """The chapter's first markdown heading (``10. Drex: the EMA bootstrap problem``), or its name."""
    import jupytext

    for cell in jupytext.reads(source, fmt="py:percent").cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return name


def status(profile: str) -> dict[str, list[str]]:
    """Each chapter's page at ``profile``: ``[]`` up to date, else why it is not (``no page``,
    ``no results``, or the inputs that changed since it ran)."""
    out = {}
    for name in runner.chapters():
        source = (runner.NOTEBOOKS / f"{name}.py").read_text()
        params = {"profile": profile}
        out[name] = runner.page_status(name, source, params, *runner.outputs(name, params))
    return out


def _note(name: str, heading: str, profile: str, why: list[str]) -> str:
    results = runner.RESULTS / profile / f"{name}.json"
    have = results.exists()
    return "\n".join(
        [
            f"# {heading}",
            "",
            ":::{note}",
            f"This chapter's executed page at profile `{profile}` is not in this build"
            + (
                f": its numbers are published (`results/{profile}/{name}.json`, in "
                "{doc}`the claims ledger <../ledger>`) but the page that computed them was not committed with them."
                if have
                else ": the chapter has not published at this profile yet."
            ),
            f"`make book` runs every chapter whose page is missing or stale before rendering; this one alone: "
            f"`.venv/bin/python -m memnb run {name} --profile {profile}` (from a committed work tree), then "
            "commit the page with its results.",
            ":::",
            "",
            f"The chapter's source is `notebooks/{name}.py`.",
            "",
        ]
    )


def _stale_cell(why: list[str], profile: str):
    import nbformat

    shown = ", ".join(f"`{w}`" for w in why[:6]) + (f" and {len(why) - 6} more" if len(why) > 6 else "")
    return nbformat.v4.new_markdown_cell(
        ":::{warning}\n"
        f"This page ran before its inputs last changed ({shown}): it shows what the code computed then. "
        f"`make book` reruns it (`python -m memnb run <chapter> --profile {profile}`).\n:::"
    )


SMOKE = (
    ":::{{warning}}\nThis is the **`{profile}` smoke-test build**: every page ran at the `{profile}` profile "
    "(one seed, tiny budgets) to check that the book builds. Its numbers and verdicts are not findings; "
    "the book is the `cpu` build (`make html`).\n:::\n\n"
)


def assemble(profile: str, out: Path) -> dict[str, list[str]]:
    """Write the book's source for ``profile`` into ``out`` (replaced); returns ``status(profile)``."""
    import nbformat

    from memnb.book import landing, ledger

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, out / name)
    shutil.copytree(ROOT / "book", out / "book", ignore=shutil.ignore_patterns(*GENERATED))
    chapters = out / "book" / "chapters"
    chapters.mkdir()
    state = status(profile)
    for name, why in state.items():
        source = (runner.NOTEBOOKS / f"{name}.py").read_text()
        page = runner.outputs(name, {"profile": profile})[1]
        if not page.exists():
            (chapters / f"{name}.md").write_text(_note(name, title(source, name), profile, why))
            continue
        if not why:
            shutil.copy2(page, chapters / page.name)
            continue
        nb = nbformat.read(page, as_version=4)
        nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, _stale_cell(why, profile))
        nbformat.write(nb, chapters / page.name)
    rows = ledger.write(profile, out / "book" / "ledger.md")
    landing.write(rows, profile, out / "book")
    intro = out / "book" / "intro.md"
    text = intro.read_text()
    if profile != runner.BOOK_PROFILE:
        head, _, rest = text.partition("\n\n")
        text = f"{head}\n\n{SMOKE.format(profile=profile)}{rest}"
    intro.write_text(text + "\n" + _build_note(profile, state))
    return state


def _build_note(profile: str, state: dict[str, list[str]]) -> str:
    missing = [n for n, why in state.items() if why and "no page" in why]
    stale = [n for n, why in state.items() if why and "no page" not in why]
    done = len(state) - len(missing) - len(stale)
    lines = ["## This build", "", f"{done} of {len(state)} chapter pages at profile `{profile}` are up to date."]
    if stale:
        lines.append(f"Stale (rendered under a warning: their inputs changed since they ran): {', '.join(stale)}.")
    if missing:
        lines.append(
            f"Not executed yet (a note page each; their verdicts, where published, are in the ledger): "
            f"{', '.join(missing)}."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m memnb.book.site", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default=runner.BOOK_PROFILE)
    ap.add_argument("--out", type=Path, default=None, help="default: _build/site/<profile>")
    args = ap.parse_args(argv)
    out = args.out or SITE / args.profile
    try:
        state = assemble(args.profile, out)
    except (FileNotFoundError, ValueError) as e:
        print(f"memnb: {e}", file=sys.stderr)
        return 1
    for name, why in state.items():
        print(
            f"{name:28s} "
            + ("page up to date" if not why else ("MISSING: " if "no page" in why else "STALE: ") + ", ".join(why))
        )
    n_ok = sum(not why for why in state.values())
    print(f"site [{args.profile}]: {n_ok}/{len(state)} pages up to date -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
