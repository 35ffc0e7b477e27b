"""The memory-architectures experiment (chapter 21): a decoder with and without an external
key-value memory on long-range tasks over growing lengths.

- ``memnb.memarch.model``: the arms (``baseline``, ``kv_memory``, and ``write_then_read``, the
  README read literally, which leaks the future) built on ``memnb.models.Decoder``;
- ``memnb.memarch.experiment``: train one arm on one task and seed, score it per length
  against the task's chance level;
- ``memnb.memarch.checks``: the leakage probe and the memory's overhead;
- ``memnb.memarch.rules``: the chapter's verdict rules, as data.
"""

from memnb.memarch.checks import future_leak, overhead
from memnb.memarch.experiment import TASK_SETTINGS, RunConfig, chance, evaluate_lengths, run_arm, run_grid
from memnb.memarch.model import ARMS, ArmConfig, AttentionWithMemory, WriteThenReadKVMemory, build_model

__all__ = [
    "ARMS",
    "ArmConfig",
    "AttentionWithMemory",
    "RunConfig",
    "TASK_SETTINGS",
    "WriteThenReadKVMemory",
    "build_model",
    "chance",
    "evaluate_lengths",
    "future_leak",
    "overhead",
    "run_arm",
    "run_grid",
]
