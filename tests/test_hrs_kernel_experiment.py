"""Chapter 33's runs (memnb.hrs.kernel_experiment): deterministic, independent of the worker count,
held-out plays without the poems, the same-weights check of the kernel's two forms."""

from dataclasses import replace

import pytest
import torch

from memnb.data.corpus import load_corpus
from memnb.hrs.kernel_experiment import KernelSetup, held_out_texts, run_arm, same_weights_gap, train_arm
from memnb.hrs.presets import ExpKernelAttention
from memnb.parallel import run_jobs

TINY = KernelSetup(d_model=16, n_layers=1, n_heads=2, seq_len=32, batch_size=2, steps=3, warmup=1, val_chars=256,
                   chunk_chars=64, chunks_per_play=4, lines_per_play=4, n_pairs=20, min_gap=1)  # fmt: skip


def _strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "train_s"}


def test_held_out_texts_are_the_plays_only():
    corpus = load_corpus()
    kinds = {r["title"]: r["kind"] for split in ("validation", "test") for r in corpus[split]}
    chunks, lines = held_out_texts(TINY)
    assert set(chunks) == set(lines) == {t for t, k in kinds.items() if k == "play"}
    assert len(chunks) < len(kinds), "the held-out splits hold poems, which are left out"


def test_same_numbers_at_any_worker_count():
    jobs = [("dot", 5, TINY), ("exp", 5, TINY)]
    one = [_strip(r) for r in run_jobs(run_arm, jobs, workers=1)]
    two = [_strip(r) for r in run_jobs(run_arm, jobs, workers=2)]
    assert one == two
    assert [r["arm"] for r in one] == ["dot", "exp"]


def test_preset_needs_both_arms_of_the_claim():
    with pytest.raises(ValueError, match="must include"):
        ExpKernelAttention.resolve("cpu", {"arms": ["dot"]})
    assert replace(TINY, steps=5).steps == 5


def test_same_weights_gap_is_rounding_for_the_distance_form_and_large_for_dot():
    model, _ = train_arm("exp", 5, replace(TINY, steps=20))
    ids = torch.randint(0, model.cfg.vocab_size, (2, 32), generator=torch.Generator().manual_seed(0))
    gaps = same_weights_gap(model, ids)
    assert gaps["exp_distance"] < 1e-4
    assert gaps["dot"] > 100 * max(gaps["exp_distance"], 1e-6)
    assert same_weights_gap(model, ids, arms=("exp",)) == {"exp": 0.0}  # the same form, the same logits
