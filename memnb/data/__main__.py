"""``python -m memnb.data prepare``: build the corpus, tokenisers and encoded splits into the cache.

Idempotent (a second run only finds what is there). Prints one line per artefact with its
size and build time; on failure prints one line saying what went wrong and exits with 1.
"""

from __future__ import annotations

import argparse
import sys
import time

from memnb.cache import cache_root


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memnb.data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build every cached data artefact")
    prep.add_argument("--bpe-vocab-size", type=int, default=4096)
    prep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    from memnb.data.build import prepare

    start = time.perf_counter()
    try:
        rows = prepare(bpe_vocab_size=args.bpe_vocab_size, progress=not args.no_progress)
    except Exception as exc:  # one clear line, not a traceback
        print(f"memnb.data prepare: error: {exc}", file=sys.stderr)
        return 1
    print(f"cache: {cache_root()}")
    for r in rows:
        print(f"  {r['artefact']:<24} {r['status']:<7} {r['detail']:<36} {_human(r['bytes']):>9} {r['seconds']:>6.2f}s")
    print(f"done in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
