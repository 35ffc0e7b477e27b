"""make html renders what is published and runs nothing: a page per chapter, a note for a missing
one, a warning on a stale one, the ci build marked as a smoke test."""

from __future__ import annotations

import nbformat
import pytest

from memnb.book import runner, site

CHAPTER = """# %% [markdown]
# # {n}. Toy {n}

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {{}}

# %%
from memnb import stats
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for name, folder in {"NOTEBOOKS": "notebooks", "BOOK_CHAPTERS": "book/chapters", "RESULTS": "results"}.items():
        monkeypatch.setattr(runner, name, tmp_path / folder)
    monkeypatch.setattr(site, "ROOT", tmp_path)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book" / "chapters").mkdir(parents=True)
    (tmp_path / "book" / "chapters-ci").mkdir()
    (tmp_path / "_config.yml").write_text("title: toy\n")
    (tmp_path / "_toc.yml").write_text("root: book/intro\n")
    (tmp_path / "book" / "intro.md").write_text("# Toy book\n\nIntro.\n")
    (tmp_path / "book" / "ledger.md").write_text("stale generated page: not copied\n")
    for n in ("97_c", "98_a", "99_b"):
        (tmp_path / "notebooks" / f"{n}.py").write_text(CHAPTER.format(n=n[:2]))
    return tmp_path


def _publish(repo, name: str, profile: str = "cpu") -> None:
    source = (runner.NOTEBOOKS / f"{name}.py").read_text()
    params = {"profile": profile}
    key, inputs = runner.run_key(name, source, params)
    out_json, out_nb = runner.outputs(name, params)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text("{}")
    nb = nbformat.v4.new_notebook(metadata={"memnb": {"key": key, "inputs": inputs}})
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), nbformat.v4.new_code_cell("1")]
    nbformat.write(nb, out_nb)


def test_render_uses_committed_pages_and_notes_the_rest(repo):
    _publish(repo, "98_a")
    _publish(repo, "97_c")
    (repo / "notebooks" / "97_c.py").write_text(CHAPTER.format(n="97") + "print('edited')\n")
    out = repo / "site"
    state = site.assemble("cpu", out)
    assert state == {"97_c": ["notebook"], "98_a": [], "99_b": ["no page", "no results"]}
    pages = out / "book" / "chapters"
    assert (pages / "98_a.ipynb").read_bytes() == (repo / "book/chapters/98_a.ipynb").read_bytes()
    stale = nbformat.read(pages / "97_c.ipynb", as_version=4)
    assert stale.cells[1].source.startswith(":::{warning}") and "(`notebook`)" in stale.cells[1].source
    note = (pages / "99_b.md").read_text()
    assert note.startswith("# 99. Toy 99\n") and "memnb run 99_b --profile cpu" in note
    intro = (out / "book" / "intro.md").read_text()
    assert "1 of 3 chapter pages at profile `cpu` are up to date" in intro and "smoke-test" not in intro
    assert "Stale" in intro and "97_c" in intro and "99_b" in intro
    assert (out / "_config.yml").exists() and (out / "book" / "ledger.md").read_text().startswith("# The claims ledger")
    assert not (repo / "runs").exists()  # nothing ran


def test_ci_build_reads_its_own_pages_under_a_smoke_test_banner(repo):
    _publish(repo, "98_a", "ci")
    assert (repo / "book" / "chapters-ci" / "98_a.ipynb").exists()
    state = site.assemble("ci", repo / "site-ci")
    assert state["98_a"] == [] and "no page" in state["97_c"]
    intro = (repo / "site-ci" / "book" / "intro.md").read_text()
    assert intro.startswith("# Toy book\n\n:::{warning}\nThis is the **`ci` smoke-test build**")
