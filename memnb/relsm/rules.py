"""ReLSM's claims (chapter 20): the rules they are judged by, as data, with no results.

The chapter's current (protocol-1) rules (once code in ``memnb.relsm.criteria``) over the metric
names that ``results/cpu/20_relsm_ladder.json`` publishes. Every effect is paired by seed. The **floor rule**
is a gate: an accuracy comparison counts only if the better of its two arms beats chance by
``FLOOR`` chance-corrected points on every seed beyond the CI; otherwise that part is INCONCLUSIVE.
"""

from __future__ import annotations

from memnb.verdicts import Measure
from memnb.verdicts.templates import all_seeds_beyond, compound, gate

ACC_BAR = 0.05  # criterion 1: >= 5 points of algorithmic accuracy
COST_BAR = 2.0  # criterion 3: <= 2x the baseline's training cost (FLOPs per step)
COLLAPSE = 1.25  # criterion 4: perplexity more than 25% above the baseline's is a collapse
FLOOR = 0.05  # chance-corrected accuracy an arm must reach for a comparison to count
LEAK_TOL = 1e-6  # a logit change above this at positions <= t is a leak
COST_ARMS = ("shared_loop", "latent", "act")


def _floor(split: str, arm: str, ref: str):
    better = Measure(
        (f"{split}_acc_chance_corrected_{arm}", f"{split}_acc_chance_corrected_{ref}"),
        "max",
        label=f"max({arm}, {ref}) chance-corrected {split.upper()} accuracy",
    )
    return gate(better, ">", FLOOR, "floor rule: the better arm has learned the tasks")


def _gain(split: str, arm: str, ref: str, bar: float):
    return all_seeds_beyond(split, f"{split}_gain_{arm}_vs_{ref}", bar, gate=_floor(split, arm, ref))


def _ladder(claim: str, arm: str, ref: str, bar: float, seed_says: str):
    return compound(
        claim,
        {"iid": _gain("iid", arm, ref, bar), "ood": _gain("ood", arm, ref, 0.0)},
        "all",
        seed_says=seed_says,
        evidence=[f"iid_acc_{arm}", f"ood_acc_{arm}", f"iid_acc_{ref}", f"ood_acc_{ref}"],
        note=f"iid = algorithmic accuracy gain of {arm} over {ref} (mean over the five tasks, IID test sets), "
        f"ood = the same over each task's OOD sizes; greedy exact match from the prompt alone",
    )


SHARED_LOOP = _ladder(
    "relsm.shared_loop", "shared_loop", "baseline", ACC_BAR, "algorithmic 75% vs 70%; parity@32 40% vs 20%"
)
LATENT = _ladder("relsm.latent", "latent", "baseline", ACC_BAR, "algorithmic 80% vs 70%; parity@32 60% vs 20%")
ACT = _ladder("relsm.act", "act", "latent", 0.0, "algorithmic 82% vs 80% (latent); OOD parity@32 65% vs 60%")

SSM_OOD = all_seeds_beyond(
    "relsm.ssm_ood",
    "ood_gain_ssm_vs_baseline",
    0.0,
    gate=_floor("ood", "ssm", "baseline"),
    seed_says="(hypothesis) recurrent/SSM variants extrapolate better",
    evidence=["ood_acc_ssm", "ood_acc_baseline"],
    note="OOD accuracy of ssm minus the RoPE baseline, per seed",
)

COST = compound(
    "relsm.cost",
    {
        f"{k}_{v}": all_seeds_beyond(f"{k}_{v}", f"{k}_ratio_{v}", bar, side="below", direction="bound")
        for v in COST_ARMS
        for k, bar in (("flops", COST_BAR), ("ppl", COLLAPSE))
    },
    "all",
    direction="bound",
    seed_says="training time 1.2x / 1.5x / 1.8x; perplexity 22 / 21 / 21 vs 20",
    note="per arm (shared_loop, latent, act): FLOPs per step / baseline's <= 2 and prefix-only perplexity / "
    "baseline's <= 1.25, per seed",
)

LATENT_IS_CAUSAL = all_seeds_beyond(
    "relsm.latent_is_causal",
    "leak_latent_seed",
    LEAK_TOL,
    side="below",
    kind="audit",
    direction="property",
    seed_says="implicit: latent is trained as a causal LM with teacher forcing",
    evidence=["leak_latent", "ppl_tf_latent_seed", "ppl_prefix_latent_seed", "tf_minus_ar_latent_seed"],
    note="max |Δ logit| at positions <= t when token t+1 changes, the trained shipped latent arm, per seed",
)

ACT_ADAPTS = all_seeds_beyond(
    "relsm.act_adapts",
    "act_iterations_hard_minus_easy",
    0.0,
    kind="audit",
    seed_says="implicit; the shipped halting head never gets a gradient",
    evidence=["halting_grad_is_none_act_seed", "act_mean_iterations"],
    note="Graves ACT: mean over tasks of (iterations at the largest − at the smallest IID size), per seed",
)

RULES = {r.id: r for r in [SHARED_LOOP, LATENT, ACT, SSM_OOD, COST, LATENT_IS_CAUSAL, ACT_ADAPTS]}
