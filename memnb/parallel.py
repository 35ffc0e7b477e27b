"""Independent runs in parallel worker processes, with numbers that do not depend on how many.

``run_jobs(fn, jobs, workers=...)`` calls ``fn(*job)`` for every job and returns the results in the
order of ``jobs``. With ``workers > 1`` the calls run in that many *spawned* processes (torch and
fork do not mix), each pinned to one torch thread; with ``workers <= 1`` they run here, one after
another. A run whose model, data and evaluation are pure functions of its arguments and that trains
on one thread therefore gives identical numbers at any worker count and in any finishing order —
each caller tests it for its own runs. ``fn`` must be importable (a module-level function).

``on_done(i, result, n_done)`` is called in this process as each job finishes (progress lines).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import torch


def _one_thread() -> None:
    torch.set_num_threads(1)


def run_jobs(
    fn: Callable[..., Any],
    jobs: Sequence[tuple],
    *,
    workers: int = 1,
    on_done: Callable[[int, Any, int], None] | None = None,
) -> list[Any]:
    """``[fn(*job) for job in jobs]``, in ``workers`` spawned one-thread processes when > 1."""
    out: list[Any] = [None] * len(jobs)
    if workers <= 1:
        for i, job in enumerate(jobs):
            out[i] = fn(*job)
            if on_done:
                on_done(i, out[i], i + 1)
        return out
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_one_thread) as pool:
        futures = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        for n_done, fut in enumerate(as_completed(futures), 1):
            i = futures[fut]
            out[i] = fut.result()
            if on_done:
                on_done(i, out[i], n_done)
    return out
