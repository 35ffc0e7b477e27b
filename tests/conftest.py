"""Test-wide settings: the book's fixed CPU thread count (fewer threads than a busy machine's
cores keeps torch from oversubscribing), and no hub access."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from memnb.seeding import CPU_THREADS  # noqa: E402

torch.set_num_threads(CPU_THREADS)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tiny models: faster than two on a busy machine, and exact."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
