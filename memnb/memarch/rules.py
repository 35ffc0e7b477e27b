"""memory-architectures' claims (chapter 21): the rules they are judged by, as data, no results.

The chapter's current (protocol-1) rules over the metric names of ``results/cpu/21_kv_memory.json``.
"""

from __future__ import annotations

from memnb.verdicts.templates import all_seeds_beyond, equivalence_margin

MARGIN = 0.02  # nats/token: "little or no gain" (the chapter's `margin` parameter)

KV_MEMORY_LONG_RANGE = all_seeds_beyond(
    "memarch.kv_memory_long_range",
    "long_range_gap_ood",
    0.0,
    seed_says="the baseline degrades faster with length; the memory model keeps lower loss on longer sequences",
    evidence=["mem_brackets_gap_ood", "mem_copy_gap_ood", "mem_repeat_gap_ood"],
    note="effect per seed = baseline − memory loss (nats/token), averaged over the long-range tasks and the test "
    "lengths beyond the training range",
)

RANDOM_TOKENS_NO_GAIN = equivalence_margin(
    "memarch.random_tokens_no_gain",
    "random_gain",
    MARGIN,
    seed_says="on random token sequences the difference may be minimal",
    evidence=["write_then_read_below_ln16", "future_leak_init_write_then_read"],
    note="gain per seed = baseline − memory loss on random tokens (nats/token), averaged over every test length",
)

RULES = {r.id: r for r in [KV_MEMORY_LONG_RANGE, RANDOM_TOKENS_NO_GAIN]}
