"""Parameters of the chapters without a project (00 data, 01 baseline, 02 memory zoo), and the
registry that maps every chapter to its ``Preset`` class.

``preset_class("01_baseline")`` is what ``Chapter.open`` and the runner resolve a profile and
overrides with; the project chapters' presets live beside their code (``memnb/<project>/presets.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.ams.presets import AmsV4
from memnb.drex.presets import DrexModel, EmaBootstrap, GateSweep
from memnb.hrs.presets import EngramLeakage, EntropyGatedRetrieval, ExpKernelAttention, TopicRouting
from memnb.leaderboard.presets import Leaderboard
from memnb.memarch.presets import KvMemory
from memnb.profiles import Preset, per_profile
from memnb.relsm.presets import Ladder


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


PRESETS: dict[str, type[Preset]] = {
    "00_data": Data,
    "01_baseline": Baseline,
    "02_memory_zoo": MemoryZoo,
    "10_ema_bootstrap": EmaBootstrap,
    "11_gate_sweep": GateSweep,
    "12_drex_model": DrexModel,
    "20_relsm_ladder": Ladder,
    "21_kv_memory": KvMemory,
    "30_engram_leakage": EngramLeakage,
    "31_entropy_gated_retrieval": EntropyGatedRetrieval,
    "32_topic_routing": TopicRouting,
    "33_exp_kernel_attention": ExpKernelAttention,
    "40_ams_v4": AmsV4,
    "50_leaderboard": Leaderboard,
}


def preset_class(chapter: str) -> type[Preset]:
    """The ``Preset`` class of a chapter (its full name, e.g. ``"01_baseline"``)."""
    try:
        return PRESETS[chapter]
    except KeyError:
        raise ValueError(f"chapter {chapter!r} has no preset; known: {', '.join(PRESETS)}") from None
