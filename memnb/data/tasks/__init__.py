"""Seeded synthetic task generators, all returning a ``TaskBatch``.

Every generator is ``make_<task>(n, *, seed, <size params>) -> TaskBatch``: a pure function of
its arguments (a NumPy generator seeded from ``seed``). ``TASKS`` maps a task name to its
generator and ``task_ranges(name)`` gives the size parameter it is trained over (``iid``,
inclusive range) and the values it is tested at beyond that (``ood``).

>>> batch = TASKS["parity"](4, seed=0)                      # IID lengths 8-12
>>> ood = TASKS["parity"](4, seed=1, length=24)             # an OOD condition
>>> task_ranges("parity")["ood"]
(16, 20, 24)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from memnb.data.tasks import algorithmic, assoc, babi, memarch, niah, passkey
from memnb.data.tasks.algorithmic import (
    make_addition,
    make_chain,
    make_compare,
    make_copy,
    make_dyck,
    make_mod_add,
    make_multiplication,
    make_parity,
    make_reverse,
    make_successor,
)
from memnb.data.tasks.assoc import make_assoc_recall
from memnb.data.tasks.babi import babi_format, babi_stories, babi_texts, make_babi
from memnb.data.tasks.base import (
    IGNORE,
    TaskBatch,
    TaskRange,
    TaskVocab,
    TextExample,
    exact_match,
    token_accuracy,
)
from memnb.data.tasks.memarch import make_mem_brackets, make_mem_copy, make_mem_random, make_mem_repeat
from memnb.data.tasks.niah import make_niah
from memnb.data.tasks.passkey import make_passkey, passkey_texts

TASKS: dict[str, Callable[..., TaskBatch]] = {
    "passkey": make_passkey,
    "niah": make_niah,
    "assoc_recall": make_assoc_recall,
    **{f"babi{t}": partial(make_babi, task=t) for t in range(1, 6)},
    **{name: getattr(algorithmic, f"make_{name}") for name in algorithmic.NAMES},
    "mem_brackets": make_mem_brackets,
    "mem_copy": make_mem_copy,
    "mem_repeat": make_mem_repeat,
    "mem_random": make_mem_random,
}
RANGES: dict[str, TaskRange] = {
    **passkey.RANGES,
    **niah.RANGES,
    **assoc.RANGES,
    **babi.RANGES,
    **algorithmic.RANGES,
    **memarch.RANGES,
}


def task_ranges(name: str) -> dict[str, Any]:
    """``{"param", "iid", "ood", "source"}`` for task ``name``: e.g. parity is trained on
    ``length`` in ``(8, 12)`` and tested at ``(16, 20, 24)``."""
    if name not in RANGES:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(RANGES)}")
    return RANGES[name].as_dict()


__all__ = [
    "IGNORE",
    "RANGES",
    "TASKS",
    "TaskBatch",
    "TaskRange",
    "TaskVocab",
    "TextExample",
    "babi_format",
    "babi_stories",
    "babi_texts",
    "exact_match",
    "make_addition",
    "make_assoc_recall",
    "make_babi",
    "make_chain",
    "make_compare",
    "make_copy",
    "make_dyck",
    "make_mem_brackets",
    "make_mem_copy",
    "make_mem_random",
    "make_mem_repeat",
    "make_mod_add",
    "make_multiplication",
    "make_niah",
    "make_parity",
    "make_passkey",
    "make_reverse",
    "make_successor",
    "passkey_texts",
    "task_ranges",
    "token_accuracy",
]
