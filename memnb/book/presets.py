"""Parameters of the chapters without a project (00 data, 01 baseline, 02 memory zoo), and the
registry that maps every chapter to its ``Preset`` class.

``preset_class("01_baseline")`` is what ``Chapter.open`` and the runner resolve a profile and
overrides with; the project chapters' presets live beside their code (``memnb/<project>/presets.py``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class Data(Preset):
    """Chapter 00: the corpus, the tokenisers and the synthetic tasks."""

    n_examples: int = per_profile(ci=64, cpu=512, gpu=2048, low=1)  # per task
    reader_nll_tokens: int = per_profile(ci=64, cpu=8192, gpu=32768, low=16)  # the reader's held-out NLL
    copy_sessions: int = per_profile(ci=4, cpu=40, gpu=200, low=1)  # the reader's copy control


@dataclass(frozen=True)
class Baseline(Preset):
    """Chapter 01: the attention baseline (the book's backbone) at char and BPE level."""

    steps: int = per_profile(ci=20, cpu=400, gpu=5000, low=1)
    d_model: int = per_profile(ci=32, cpu=128, gpu=384, low=1)
    n_layers: int = per_profile(ci=2, cpu=4, gpu=6, low=1)
    seq_len: int = per_profile(ci=64, cpu=128, gpu=256, low=1)
    batch_size: int = per_profile(ci=8, cpu=16, gpu=64, low=1)
    bpe_vocab: int = per_profile(ci=1024, cpu=4096, gpu=4096, low=1)
    eval_chars: int = per_profile(ci=4_000, cpu=100_000, gpu=400_000, low=1)


@dataclass(frozen=True)
class MemoryZoo(Preset):
    """Chapter 02: every memory layer checked (exact, causal, segment-recurrent) and timed."""

    d_model: int = per_profile(ci=32, cpu=64, gpu=128, low=1)
    seq_len: int = per_profile(ci=48, cpu=256, gpu=1024, low=1)
    bench_lengths: list[int] = per_profile(ci=[128, 256], cpu=[512, 2048, 8192], gpu=[512, 2048, 8192, 32768], low=1)


# Each chapter's preset as "module:Class", imported only when asked for, so that a chapter imports
# its own project's presets and no other's (``memnb.book.chapter_key`` keys a chapter on the
# modules it imports; tests may put a class here directly).
PRESETS: dict[str, str | type[Preset]] = {
    "00_data": "memnb.book.presets:Data",
    "01_baseline": "memnb.book.presets:Baseline",
    "02_memory_zoo": "memnb.book.presets:MemoryZoo",
    "10_ema_bootstrap": "memnb.drex.presets:EmaBootstrap",
    "11_gate_sweep": "memnb.drex.presets:GateSweep",
    "12_drex_model": "memnb.drex.presets:DrexModel",
    "20_relsm_ladder": "memnb.relsm.presets:Ladder",
    "21_kv_memory": "memnb.memarch.presets:KvMemory",
    "30_engram_leakage": "memnb.hrs.presets:EngramLeakage",
    "31_entropy_gated_retrieval": "memnb.hrs.presets:EntropyGatedRetrieval",
    "32_topic_routing": "memnb.hrs.presets:TopicRouting",
    "33_exp_kernel_attention": "memnb.hrs.presets:ExpKernelAttention",
    "40_ams_v4": "memnb.ams.presets:AmsV4",
    "50_leaderboard": "memnb.leaderboard.presets:Leaderboard",
}


def _entry(chapter: str) -> str | type[Preset]:
    try:
        return PRESETS[chapter]
    except KeyError:
        raise ValueError(f"chapter {chapter!r} has no preset; known: {', '.join(PRESETS)}") from None


def preset_class(chapter: str) -> type[Preset]:
    """The ``Preset`` class of a chapter (its full name, e.g. ``"01_baseline"``)."""
    entry = _entry(chapter)
    if isinstance(entry, str):
        module, _, name = entry.partition(":")
        return getattr(importlib.import_module(module), name)
    return entry


def preset_module(chapter: str) -> str:
    """The module that defines a chapter's preset (``"memnb.drex.presets"``), without importing it."""
    entry = _entry(chapter)
    return entry.partition(":")[0] if isinstance(entry, str) else entry.__module__
