"""Content-addressed caching of expensive artefacts, written atomically and checked on use.

An artefact (corpus split, tokenizer, checkpoint) lives in ``<cache_root>/<kind>/<key>/``
where ``key`` hashes the config that produced it. A build writes into a temporary
sibling folder and renames it into place only when complete, so a crash never leaves a
half-written artefact that a later run would trust.

A marker file is not proof of content: a data build also records every file's size and sha256
(``memnb-files.json``, ``checksums=True``), and the first use of a folder in a process checks them (plus the
artefact's own ``verify``, e.g. the corpus manifest's per-document hashes, which also covers
folders built before the file list existed). A damaged folder is rebuilt, with one line on
stderr naming the file and what was wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORD = "memnb-cache.json"  # the config that built a cached folder; its presence marks it complete
FILES = "memnb-files.json"  # {relative path: [size, sha256]} of every file a build wrote
_VERIFIED: set[str] = set()  # folders checked in this process (checked once per run)


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_list(folder: Path) -> dict[str, list]:
    """``{relative path: [size, sha256]}`` of every file under ``folder`` but the cache's own records."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in (RECORD, FILES):
            out[str(path.relative_to(folder))] = [path.stat().st_size, _sha256(path)]
    return out


def damage(folder: Path) -> str | None:
    """What is wrong with a cached folder against its recorded file list (missing file, size,
    hash), or None. A folder without a file list (built before it existed) passes here."""
    listed = folder / FILES
    if not listed.exists():
        return None
    try:
        files = json.loads(listed.read_text())
    except (OSError, ValueError):
        return f"{FILES} is unreadable"
    for rel, (size, _) in files.items():
        path = folder / rel
        if not path.is_file():
            return f"{rel} is missing"
        if path.stat().st_size != size:
            return f"{rel} has {path.stat().st_size:,} bytes, {size:,} when built"
    for rel, (_, digest) in files.items():
        if _sha256(folder / rel) != digest:
            return f"{rel} differs from the built file (sha256)"
    return None


def forget_verified() -> None:
    """Check every cached folder again on its next use (tests; a long-lived process)."""
    _VERIFIED.clear()


def cached_dir(
    kind: str,
    config: dict,
    build: Callable[[Path], None],
    verify: Callable[[Path], str | None] | None = None,
    *,
    checksums: bool = False,
) -> Path:
    """Return the folder for ``(kind, config)``, calling ``build(tmp_dir)`` if it is missing or damaged.

    ``build`` fills ``tmp_dir``; on success a ``memnb-cache.json`` recording the config is added
    (and, with ``checksums``, the file list: sizes and sha256) and the folder is renamed to its
    final place. If ``build`` raises, nothing is left behind. The first use in a process checks
    the file list where there is one and ``verify(folder)`` (a problem as text, or None); a
    damaged folder is rebuilt with a one-line message on stderr. (Artefacts with their own
    integrity check, such as the pretrained reader's fingerprint, keep it instead.)
    """
    final = cache_root() / kind / config_hash(config)
    damaged = None
    if (final / RECORD).exists():
        if str(final) in _VERIFIED:
            return final
        damaged = damage(final) or (verify(final) if verify is not None else None)
        if damaged is None:
            _VERIFIED.add(str(final))
            return final
        print(f"memnb cache: {kind}/{final.name} is damaged ({damaged}); rebuilding it", file=sys.stderr)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
    try:
        build(tmp)
        if checksums:
            (tmp / FILES).write_text(json.dumps(file_list(tmp), indent=1, sort_keys=True))
        (tmp / RECORD).write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
        if not damaged and (final / RECORD).exists():  # another process finished the same build first
            shutil.rmtree(tmp)
            return final
        if final.exists():  # a stale, incomplete or damaged folder
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _VERIFIED.add(str(final))
    return final
