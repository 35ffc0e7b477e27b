"""Content-addressed caching of expensive artefacts, written atomically.

An artefact (corpus split, tokenizer, checkpoint) lives in ``<cache_root>/<kind>/<key>/``
where ``key`` hashes the config that produced it. A build writes into a temporary
sibling folder and renames it into place only when complete, so a crash never leaves a
half-written artefact that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORD = "memnb-cache.json"  # the config that built a cached folder; its presence marks it complete


def cache_root() -> Path:
    """Where cached artefacts live: ``$MEMNB_CACHE`` or ``data/cache`` in the repo."""
    return Path(os.environ.get("MEMNB_CACHE", ROOT / "data" / "cache"))


def config_hash(config: Any, n: int = 12) -> str:
    """A short stable hash of a JSON-serialisable config (dict keys sorted)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:n]


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make published results private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def cached_dir(kind: str, config: dict, build: Callable[[Path], None]) -> Path:
    """Return the folder for ``(kind, config)``, calling ``build(tmp_dir)`` if it is missing.

    ``build`` fills ``tmp_dir``; on success the folder is renamed to its final place and a
    ``memnb-cache.json`` recording the config is added. If ``build`` raises, nothing is left behind.
    """
    final = cache_root() / kind / config_hash(config)
    if (final / RECORD).exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
    try:
        build(tmp)
        (tmp / RECORD).write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
        if (final / RECORD).exists():  # another process finished the same build first
            shutil.rmtree(tmp)
            return final
        if final.exists():  # a stale, incomplete folder
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
