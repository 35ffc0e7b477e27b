"""memnb.parallel.run_jobs: results in job order at any worker count, progress callbacks, one
torch thread in each worker."""

import torch

from memnb.parallel import run_jobs


def threads_and_square(x: int) -> tuple[int, int]:
    return torch.get_num_threads(), x * x


def test_run_jobs_in_order_at_any_worker_count():
    jobs = [(x,) for x in range(5)]
    seen: list[tuple[int, int]] = []
    one = run_jobs(threads_and_square, jobs, workers=1, on_done=lambda i, r, n: seen.append((i, n)))
    two = run_jobs(threads_and_square, jobs, workers=2)
    assert [r[1] for r in one] == [r[1] for r in two] == [0, 1, 4, 9, 16]
    assert all(t == 1 for t, _ in two)  # every worker runs one torch thread
    assert seen == [(i, i + 1) for i in range(5)]
