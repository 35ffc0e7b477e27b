"""A chapter's key hashes what it uses: its notebook, the memnb modules it imports (transitively),
the data recipe and its parameters -- so a change to one project reruns only its chapters."""

from __future__ import annotations

import nbformat

from memnb.book import chapter_key, runner
from memnb.book.slim import MAX_LINES, slim
from memnb.cache import ROOT

NOTEBOOK = """# %% [markdown]
# # Toy {name}

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {{}}

# %%
%matplotlib inline
{imports}
"""


def _tree(tmp_path):
    """A toy package: memnb.a imports memnb.shared (at module level) and memnb.deep.x (inside a
    function, relatively); memnb.b imports memnb.shared; the data recipe is memnb.data.build."""
    files = {
        "memnb/__init__.py": "",
        "memnb/cache.py": "ROOT = None\n",
        "memnb/shared.py": "import torch\n",
        "memnb/a.py": "from memnb import shared\n\ndef f():\n    from .deep import x\n",
        "memnb/b.py": "from memnb.shared import *\n",
        "memnb/deep/__init__.py": "",
        "memnb/deep/x.py": "from ..cache import ROOT\n",
        "memnb/data/__init__.py": "",
        "memnb/data/build.py": "from memnb import cache\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return {
        "00_x": NOTEBOOK.format(name="X", imports="import numpy\nfrom memnb import a"),
        "01_y": NOTEBOOK.format(name="Y", imports="import memnb.b as b"),
    }


def _key(tmp_path, name, source, params=None):
    return chapter_key.key_of(chapter_key.inputs(name, source, params or {"profile": "cpu"}, tmp_path))


def test_closure_follows_imports_within_memnb(tmp_path):
    sources = _tree(tmp_path)
    got = chapter_key.inputs("00_x", sources["00_x"], {"profile": "cpu"}, tmp_path)
    assert sorted(got["modules"]) == [
        "memnb/__init__.py",
        "memnb/a.py",
        "memnb/cache.py",
        "memnb/deep/__init__.py",
        "memnb/deep/x.py",
        "memnb/shared.py",
    ]
    assert sorted(got["data_recipe"]) == ["memnb/__init__.py", "memnb/cache.py", "memnb/data/__init__.py"] + [
        "memnb/data/build.py"
    ]
    y = chapter_key.inputs("01_y", sources["01_y"], {"profile": "cpu"}, tmp_path)
    assert sorted(y["modules"]) == ["memnb/__init__.py", "memnb/b.py", "memnb/shared.py"]


def test_a_module_only_x_imports_changes_x_key_only(tmp_path):
    sources = _tree(tmp_path)
    before = {n: _key(tmp_path, n, s) for n, s in sources.items()}
    assert before == {n: _key(tmp_path, n, s) for n, s in sources.items()}  # deterministic
    (tmp_path / "memnb/deep/x.py").write_text("from ..cache import ROOT  # edited\n")
    after = {n: _key(tmp_path, n, s) for n, s in sources.items()}
    assert after["00_x"] != before["00_x"] and after["01_y"] == before["01_y"]
    (tmp_path / "memnb/shared.py").write_text("import torch  # both import it\n")
    both = {n: _key(tmp_path, n, s) for n, s in sources.items()}
    assert both["00_x"] != after["00_x"] and both["01_y"] != after["01_y"]
    (tmp_path / "memnb/data/build.py").write_text("from memnb import cache  # new recipe\n")
    recipe = {n: _key(tmp_path, n, s) for n, s in sources.items()}
    assert all(recipe[n] != both[n] for n in sources)  # the data recipe is every chapter's input
    (tmp_path / "memnb/unused.py").write_text("x = 1\n")
    assert {n: _key(tmp_path, n, s) for n, s in sources.items()} == recipe


def test_notebook_and_parameters_are_inputs(tmp_path):
    sources = _tree(tmp_path)
    base = _key(tmp_path, "00_x", sources["00_x"])
    assert _key(tmp_path, "00_x", sources["00_x"] + "\nprint(1)\n") != base
    assert _key(tmp_path, "00_x", sources["00_x"], {"profile": "ci"}) != base
    assert _key(tmp_path, "00_x", sources["00_x"], {"profile": "cpu", "seeds": [5]}) != base


def test_changed_names_what_differs(tmp_path):
    sources = _tree(tmp_path)
    old = chapter_key.inputs("00_x", sources["00_x"], {"profile": "cpu"}, tmp_path)
    (tmp_path / "memnb/a.py").write_text("from memnb import shared  # edited\n")
    new = chapter_key.inputs("00_x", sources["00_x"], {"profile": "cpu"}, tmp_path)
    gone = ["memnb/cache.py", "memnb/deep/__init__.py", "memnb/deep/x.py"]  # no longer imported
    assert chapter_key.changed(old, new) == ["memnb/a.py", *gone]
    assert chapter_key.changed(None, new) == ["no recorded inputs"]


def test_real_chapters_are_keyed_on_their_own_project():
    """In the repository: a Drex module is an input of the Drex chapters, not of HRS's; each
    chapter's preset module is an input of that chapter only (the registry imports it lazily)."""

    def modules(name):
        source = (ROOT / "notebooks" / f"{name}.py").read_text()
        return set(chapter_key.inputs(name, source, {"profile": "cpu"})["modules"])

    gate, engram = modules("11_gate_sweep"), modules("30_engram_leakage")
    assert "memnb/drex/sweep.py" in gate and "memnb/drex/sweep.py" not in engram
    assert "memnb/drex/presets.py" in gate and "memnb/hrs/presets.py" not in gate
    assert "memnb/hrs/presets.py" in engram and "memnb/book/runner.py" not in gate


def test_page_status_on_a_committed_page(tmp_path, monkeypatch):
    """A page whose stored key matches is up to date with no run; an edited input names itself."""
    monkeypatch.setattr(runner, "ROOT", ROOT)
    name = "00_data"
    source = (ROOT / "notebooks" / f"{name}.py").read_text()
    params = {"profile": "cpu"}
    out_json, out_nb = tmp_path / "r.json", tmp_path / "p.ipynb"
    assert runner.page_status(name, source, params, out_json, out_nb) == ["no page", "no results"]
    key, inputs = runner.run_key(name, source, params)
    nb = nbformat.v4.new_notebook(metadata={"memnb": {"key": key, "inputs": inputs}})
    nbformat.write(nb, out_nb)
    out_json.write_text("{}")
    assert runner.page_status(name, source, params, out_json, out_nb) == []
    assert runner.page_status(name, source + "\n# edited\n", params, out_json, out_nb) == ["notebook"]


def test_pages_dir_keeps_ci_apart_from_the_book():
    assert runner.pages_dir("cpu") == runner.BOOK_CHAPTERS
    assert runner.pages_dir("ci") == runner.BOOK_CHAPTERS.parent / "chapters-ci"


def test_slim_caps_streams_and_drops_widgets():
    long = "".join(f"line {i}\n" for i in range(1000))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=long),
        nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "1"}}),
        nbformat.v4.new_output("display_data", data={"text/plain": "t", "text/html": "<td>" * 100_000}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}),
    ]
    nb.cells.append(cell)
    assert slim(nb) == 3
    stream, table, image = cell.outputs
    lines = stream["text"].splitlines()
    assert len(lines) == MAX_LINES and lines[0] == "line 0" and lines[-1] == "line 999"
    assert "[... 881 lines cut ...]" in lines
    assert "text/html" not in table["data"] and "cut by memnb.book.slim" in table["data"]["text/plain"]
    assert image["data"]["image/png"] == "iVBOR"
    assert slim(nb) == 0  # idempotent
