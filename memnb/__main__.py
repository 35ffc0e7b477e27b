"""Command line: ``python -m memnb run|list|bench|ledger ...``.

    python -m memnb run 01_baseline                 # default profile: cpu
    python -m memnb run all --profile ci
    python -m memnb run all --executor ray [--address HOST:6379]   # each chapter a Ray task
    python -m memnb run 10 -p seeds "[11, 12, 13]"  # other seeds: written to runs/cpu-custom/, not results/
    python -m memnb list
    python -m memnb bench [--quick] [--lengths 512 2048] [--no-memory] ...
    python -m memnb ledger [--profile cpu] [--strict]   # the claims ledger page
    python -m memnb compare results/ci /tmp/ci-before   # same numbers and verdicts?

Only a run with the profile's default parameters writes ``results/<profile>/`` and the book's
page; a run with other parameters writes ``runs/<profile>-custom/`` and says so. Errors print one
line (``memnb: ...``) and exit non-zero, before anything runs; nothing is written. Ctrl-C or
SIGTERM stops a run with one line (exit 130 / 143), its work folder removed, nothing published.
"""

from __future__ import annotations

import argparse
import signal
import sys

from memnb import profiles


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise SystemExit(f"memnb: {message} (see python -m memnb --help)")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m memnb", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="execute chapter(s) with papermill and publish results")
    run.add_argument("chapter", help="chapter name or unique prefix, or 'all'")
    run.add_argument("--profile", default=profiles.DEFAULT_PROFILE, help="ci | cpu | gpu")
    run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="override a parameter")
    run.add_argument("--force", action="store_true", help="rerun even if up to date")
    run.add_argument("--no-progress", action="store_true", help="no progress bar or training lines")
    run.add_argument("--allow-cpu", action="store_true", help="let --profile gpu run on the CPU when there is no GPU")
    run.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: one after another here (default); ray: each chapter a Ray task",
    )
    run.add_argument("--address", help="with --executor ray: a running Ray cluster (HOST:6379); default: a local Ray")
    sub.add_parser("list", help="list chapters and their parameters")
    sub.add_parser("bench", help="time every memory op; its options go to memnb.book.bench", add_help=False)
    sub.add_parser("ledger", help="write the claims ledger page (book/ledger.md)", add_help=False)
    sub.add_parser("compare", help="compare two results folders, wall-clock figures ignored", add_help=False)
    return ap


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.cmd not in ("bench", "ledger", "compare"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from memnb.book import runner

    if args.cmd == "list":
        from memnb.book.presets import preset_class

        for name in runner.chapters():  # each chapter's parameters at the default profile
            params = preset_class(name).resolve(profiles.DEFAULT_PROFILE).as_dict()
            print(f"{name:28s} " + " ".join(f"{k}={v!r}" for k, v in params.items()))
        return 0
    if args.cmd == "bench":
        from memnb.book import bench

        return bench.main(rest)
    if args.cmd == "compare":
        from memnb.book import compare

        return compare.main(rest)
    if args.cmd == "ledger":
        from memnb.book import ledger

        return ledger.main(rest)

    overrides = dict(args.p)

    def stop(signum, frame):  # SIGTERM unwinds like Ctrl-C: the run's work folder is removed
        raise runner.Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        names = runner.chapters() if args.chapter == "all" else [runner.resolve_chapter(args.chapter)]
        if args.address and args.executor != "ray":
            raise runner.ChapterError("--address is the Ray cluster's; add --executor ray")
        on_ray = args.executor == "ray"  # the GPU check is then each task's, on its node
        for name in names:  # validate every chapter before running any
            runner.prepare(name, args.profile, overrides, allow_cpu=args.allow_cpu or on_ray)
        if on_ray:
            from memnb.book import executors

            runs = executors.run_ray(
                names, args.profile, overrides, force=args.force, allow_cpu=args.allow_cpu, address=args.address
            )
        else:
            runs = (
                runner.run_chapter(
                    name,
                    args.profile,
                    overrides,
                    force=args.force,
                    progress=not args.no_progress,
                    allow_cpu=args.allow_cpu,
                )
                for name in names
            )
        failed = 0
        for out in runs:
            if isinstance(out, runner.ChapterError):  # Ray: one chapter failed, the others go on
                print(f"memnb: {out}", file=sys.stderr)
                failed += 1
                continue
            where = out.results.relative_to(runner.ROOT)
            note = "" if out.published else f" (custom parameters: not published; results/{out.profile} untouched)"
            print(f"{out.chapter} [{out.profile}]: {out.status} ({out.wall_s:.1f} s) -> {where}{note}", flush=True)
        if failed:
            return 1
    except runner.ChapterError as e:
        print(f"memnb: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        signame = getattr(e, "signame", "SIGINT")
        print(f"memnb: interrupted ({signame}); nothing published, results/ and the book as they were", file=sys.stderr)
        return 143 if signame == "SIGTERM" else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
