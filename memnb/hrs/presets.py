"""Parameters of the HRS chapters (30 engram leakage, 31 entropy-gated retrieval, 32 topic
routing, 33 exp-kernel attention), per profile. Cross-field conditions (a pool large enough
for the distractors, lengths that are scored) are checked before anything runs."""

from __future__ import annotations

from dataclasses import dataclass

from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class EngramLeakage(Preset):
    """Chapter 30: the engram arms trained on Shakespeare and the causality probe.

    The arms whose losses the rules read (V17, V16, V18) train ``steps`` steps; the two cells of
    the 2×2 that are judged by the probe alone (a property of the architecture) train
    ``property_steps``. ``cpu``: constant lr, no weight decay (chapter 20's setting), two
    one-thread workers, the budget piloted in the chapter (``python -m memnb.hrs.pilot --chapter 30``)."""

    SEEDS = {"cpu": [300, 301, 302, 303]}  # protocol 2: fresh seeds (the chapter's first runs used 0-2)

    d_model: int = per_profile(ci=32, cpu=64, gpu=256, low=1)
    n_layers: int = per_profile(ci=4, cpu=4, gpu=6, low=1)
    seq_len: int = per_profile(ci=32, cpu=64, gpu=256, low=1)
    window: int = per_profile(ci=8, cpu=16, gpu=64, low=1)
    batch_size: int = per_profile(ci=4, cpu=32, gpu=64, low=1)
    steps: int = per_profile(ci=8, cpu=1500, gpu=6000, low=1)
    property_steps: int = per_profile(ci=4, cpu=100, gpu=300, low=1)
    schedule: str = per_profile(ci="constant", cpu="constant", gpu="constant", choices=["constant", "cosine"])
    weight_decay: float = per_profile(ci=0.0, cpu=0.0, gpu=0.0, low=0.0)
    update_interval: int = per_profile(ci=2, cpu=10, gpu=100, low=1)
    momentum: float = per_profile(ci=0.5, cpu=0.9, gpu=0.99, low=0.0, high=1.0)
    n_eval: int = per_profile(ci=4, cpu=64, gpu=256, low=1)
    n_samples: int = per_profile(ci=0, cpu=0, gpu=0, low=0)  # no generations: MAUVE is not judged (chapter text)
    prompt_len: int = per_profile(ci=8, cpu=24, gpu=64, low=1)
    gen_len: int = per_profile(ci=16, cpu=40, gpu=128, low=1)
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)  # processes of one thread (numbers do not depend on it)


@dataclass(frozen=True)
class EntropyGatedRetrieval(Preset):
    """Chapter 31: needle retrieval among same-domain distractors with the pretrained reader's keys,
    gated by its entropy. ``pool_size`` distractors (``haystack.places``, fixed by ``POOL_SEED``) are
    encoded once; each seed draws its needles and its distractor samples."""

    SEEDS = {"cpu": [10, 11, 12, 13, 14]}  # fresh seeds (the protocol-1 run used 0, 1, 2)
    POOL_SEED = 31

    n_needles: int = per_profile(ci=4, cpu=50, gpu=100, low=1)
    distractors: list[int] = per_profile(ci=[20], cpu=[20, 200, 1000], gpu=[20, 200, 2000], low=0)
    pool_size: int = per_profile(ci=20, cpu=1000, gpu=2000, low=1)
    gate_percentile: int = per_profile(ci=50, cpu=50, gpu=50, low=0, high=100)
    gen_prompts: int = per_profile(ci=1, cpu=8, gpu=50, low=1)
    gen_tokens: int = per_profile(ci=4, cpu=30, gpu=30, low=1)

    def check(self) -> None:
        if max(self.distractors) > self.pool_size:
            raise ValueError(f"distractors {self.distractors} need pool_size >= {max(self.distractors)}")


@dataclass(frozen=True)
class TopicRouting(Preset):
    """Chapter 32: topic separation by length and routing contamination, on the pretrained reader.

    Part 1 reads ``n_chunks`` chunks per play, anchored ``stride`` tokens apart, once at
    ``max(lengths)`` tokens (every shorter length is a prefix of the same read); part 2 draws
    ``n_prompts`` prompt windows per seed and runs ``conditions``. Sized from the pilot in the
    chapter's text."""

    SEEDS = {"cpu": [320, 321, 322]}  # protocol 2: fresh seeds (the chapter's first runs used 0-2)

    lengths: list[int] = per_profile(
        ci=[8, 32], cpu=[8, 16, 32, 64, 128, 256, 512], gpu=[8, 16, 32, 64, 128, 256, 512, 1024], low=2
    )
    sentence_len: int = per_profile(ci=8, cpu=32, gpu=32, low=2)
    article_len: int = per_profile(ci=32, cpu=512, gpu=512, low=2)
    item_tokens: int = per_profile(ci=32, cpu=128, gpu=128, low=2)
    n_chunks: int = per_profile(ci=8, cpu=20, gpu=24, low=4)
    stride: int = per_profile(ci=64, cpu=768, gpu=1152, low=1)
    n_pairs: int = per_profile(ci=20, cpu=250, gpu=250, low=10)
    context_tokens: int = per_profile(ci=16, cpu=64, gpu=128, low=0)
    prompt_tokens: int = per_profile(ci=8, cpu=32, gpu=64, low=2)
    continuation_tokens: int = per_profile(ci=8, cpu=32, gpu=64, low=1)
    n_prompts: int = per_profile(ci=6, cpu=64, gpu=500, low=2)
    conditions: list[str] = per_profile(
        ci=["none", "routed"],
        cpu=["none", "routed", "same_play"],
        gpu=["none", "routed", "same_play", "other_play_ref", "other_domain", "seed_artifact"],
        choices=["none", "routed", "same_play", "other_play_ref", "other_domain", "seed_artifact"],
    )
    kmeans_seeds: int = per_profile(ci=1, cpu=3, gpu=5, low=1)
    n_boot: int = per_profile(ci=2, cpu=100, gpu=200, low=0)

    def check(self) -> None:
        for key in ("sentence_len", "article_len", "item_tokens"):
            if getattr(self, key) not in self.lengths:
                raise ValueError(
                    f"{key}={getattr(self, key)} must be one of lengths={self.lengths} "
                    "(its scores and threshold come from there)"
                )
        if max(self.lengths) >= self.stride:
            raise ValueError(
                f"stride={self.stride} must exceed max(lengths)={max(self.lengths)} (chunks must not touch)"
            )
        if not {"none", "routed"} <= set(self.conditions):
            raise ValueError(f"conditions {self.conditions} must include 'none' and 'routed' (the claim compares them)")


@dataclass(frozen=True)
class ExpKernelAttention(Preset):
    """Chapter 33: dot-product vs exponential-kernel attention, topic separation of the states.

    ``cpu``: two arms (``dot``, ``exp``) × 4 seeds × 800 steps of 8 × 256 characters on two
    one-thread workers, the budget piloted in the chapter; ``gpu``: the seed's model size
    (d 384, 6 layers) with the ``dot_soft`` arm, 5 seeds."""

    # protocol 2: fresh seeds (the first runs used 0-2; 330-333 the 900-step runs, over the 15-minute budget)
    SEEDS = {"cpu": [334, 335, 336, 337]}

    arms: list[str] = per_profile(
        ci=["dot", "exp"],
        cpu=["dot", "exp"],
        gpu=["dot", "exp", "dot_soft"],
        choices=["dot", "exp", "dot_soft"],
    )
    steps: int = per_profile(ci=20, cpu=800, gpu=5000, low=1)
    d_model: int = per_profile(ci=32, cpu=128, gpu=384, low=1)
    n_layers: int = per_profile(ci=2, cpu=4, gpu=6, low=1)
    n_heads: int = per_profile(ci=2, cpu=4, gpu=6, low=1)
    short_conv: int = per_profile(ci=2, cpu=2, gpu=2, low=0)
    seq_len: int = per_profile(ci=64, cpu=256, gpu=256, low=1)
    batch_size: int = per_profile(ci=4, cpu=8, gpu=64, low=1)
    chunk_chars: int = per_profile(ci=256, cpu=256, gpu=256, low=1)
    chunks_per_play: int = per_profile(ci=8, cpu=50, gpu=50, low=1)
    lines_per_play: int = per_profile(ci=8, cpu=100, gpu=200, low=1)
    n_pairs: int = per_profile(ci=200, cpu=2000, gpu=5000, low=1)
    min_gap: int = per_profile(ci=2, cpu=2, gpu=2, low=0)
    val_chars: int = per_profile(ci=4096, cpu=32768, gpu=131072, low=1)
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)  # processes of one thread (numbers do not depend on it)

    def check(self) -> None:
        if not {"dot", "exp"} <= set(self.arms):
            raise ValueError(f"arms {self.arms} must include 'dot' and 'exp' (the claim compares them)")
