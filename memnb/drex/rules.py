"""Drex's claims (chapters 10, 11 and 12): the rules they are judged by, as data, with no results.

These are the chapters' current (protocol-1) rules, restated over the metric names that
``results/cpu/10_ema_bootstrap.json``, ``11_gate_sweep.json`` and ``12_drex_model.json`` publish;
``memnb.verdicts.judge`` applied to a chapter's ``metrics`` gives its published verdict. The
templates are described in ``memnb.verdicts.legacy``. ``drex.tau_explains_recall`` has no rule
yet (NOT RUN).
"""

from __future__ import annotations

from memnb.verdicts import clause
from memnb.verdicts.templates import all_or_none_seeds, all_seeds_beyond, check, compound

RECALL_MARGIN = 0.02  # two points of recall (ch. 10)
WR_BANDS = {32: (0.20, 0.70), 96: (0.15, 0.50)}  # the seed's target write-rate bands (ch. 11)
LAST_LAYER_MARGIN = 0.02  # nats/char: "same quality" (ch. 12)

# --- chapter 10: EMA bootstrap -----------------------------------------------------------------
TAU_OVER_L = compound(
    "drex.tau_over_L",
    {
        "spread": all_or_none_seeds("spread", check("tau_over_L_adaptive_rel_halfspread", "<=", 0.10)),
        "near_021": all_or_none_seeds(
            "near_021",
            check("tau_over_L_adaptive_min", "near", 0.21, tol=0.10, relative=True),
            check("tau_over_L_adaptive_max", "near", 0.21, tol=0.10, relative=True),
        ),
    },
    "decision",
    supported_if=[clause(spread="SUPPORTED", near_021="SUPPORTED")],
    refuted_if=[clause(spread="REFUTED")],
    kind="identity",
    direction="check",
    seed_says="alpha(L)=0.95^(96/L) keeps tau/L ~= 0.21 constant for L=16-128",
    evidence=["tau_over_L_adaptive_min", "tau_over_L_adaptive_max", "tau_over_L_adaptive_rel_halfspread"],
    note="closed form, deterministic: tau/L of alpha(L) over L = 16-128 varies by at most ±10% around its mean "
    "(half the max-min spread over the mean) and every L stays within ±10% of the seed's 0.21 (checked on the "
    "extremes)",
)

RECALL_TASK_VALID = compound(
    "drex.recall_task_valid",
    {
        "probe": all_seeds_beyond("probe", "seed_task_key_specific_effect", RECALL_MARGIN),
        "e2e": all_seeds_beyond("e2e", "e2e_seed_task_key_specific_effect", RECALL_MARGIN),
    },
    "unanimous",
    kind="audit",
    seed_says="accuracy 0.20-0.27 in every arm measures memory recall",
    evidence=[
        "seed_task_acc",
        "seed_task_acc_decoy",
        "seed_task_acc_memory_removed",
        "e2e_seed_task_acc",
        "e2e_seed_task_acc_decoy",
        "e2e_seed_task_acc_memory_removed",
    ],
    note="effect = accuracy − decoy accuracy per seed, averaged over the memory arms and lengths; probe = the "
    "frozen memory with a fitted linear head, e2e = the seed's exp_47_1 model trained end to end (rule widened "
    "to e2e in the chapter's second version)",
)

EMA_BOOTSTRAP = compound(
    "drex.ema_bootstrap",
    {
        "probe": all_seeds_beyond("probe", "kv_recall_adaptive_minus_fixed_Lle32", RECALL_MARGIN),
        "e2e": all_seeds_beyond("e2e", "e2e_kv_recall_adaptive_minus_fixed_Lle32", RECALL_MARGIN),
    },
    "unanimous",
    seed_says="fixed alpha=0.95 fails at L<=32; alpha(L)=0.95^(96/L) fixes it (wr 0.966 -> 0.581 at L=32)",
    evidence=["wr_init_fixed_L32", "wr_init_adaptive_L32"],
    note="effect = recall(adaptive) − recall(fixed) on the corrected key→value task, averaged over L ≤ 32; probe = "
    "the frozen memory, e2e = the seed's small model trained end to end (rule widened to e2e in the second version)",
)

# --- chapter 11: gate sweep --------------------------------------------------------------------
GATE_WRITE_RATES = all_or_none_seeds(
    "drex.gate_write_rates",
    check("wr_or_theta070_L32", "between", *WR_BANDS[32]),
    check("wr_or_theta070_L96", "between", *WR_BANDS[96]),
    kind="identity",
    direction="check",
    seed_says="thresh 0.70: wr 0.581 (L=32, band 0.20-0.70), 0.421 (L=96, band 0.15-0.50)",
    note="the untrained OR-gate probe's write rate at theta = 0.70, per seed (a deterministic function of the layout)",
)

WRITE_RATES_TRAINED = all_seeds_beyond(
    "drex.write_rates_trained",
    "wr_trained_minus_formula_abs",
    0.01,
    kind="audit",
    seed_says="0.581 / 0.421, identical to 4 decimals over 3 seeds (as a property of the trained memory)",
    note="effect per seed = max over lengths of |wr(trained) − wr(closed form)|, the seed's model and protocol",
)

THRESH_070_BEST = all_seeds_beyond(
    "drex.thresh_070_best",
    "kv_recall_070_minus_best_other",
    0.0,
    seed_says="thresh* = 0.70 (exp_48_1; passed on 1 of 3 seeds)",
    evidence=["best_other_theta"],
    note="effect = recall(theta 0.70) − recall(the other theta with the best mean recall), corrected task",
)

NULL_GATE = all_seeds_beyond(
    "drex.null_gate",
    "null_gate_loss_effect",
    0.0,
    seed_says="+0.30 ppl without the null gate (1 seed)",
    note="effect = eval loss(no null gate) − loss(null gate), nats",
)

NO_COMBINATION_GATE = all_seeds_beyond(
    "drex.no_combination_gate",
    "combination_gate_minus_concat_loss",
    -0.02,
    seed_says="learned combination gate -10% (exp_38_3): concatenation suffices",
    note="effect = eval loss(combination gate) − loss(concat), nats: the gate gains less than 0.02 nats",
)

# --- chapter 12: the Drex model ----------------------------------------------------------------
EPISODIC_MEMORY_HELPS = all_seeds_beyond(
    "drex.episodic_memory_helps",
    "key_gain_B_minus_A",
    0.0,
    seed_says="Exp B (L4, thresh 0.70) improves long-context recall over Exp A; results never published",
    evidence=["key_gain_A", "key_gain_B", "passkey_acc_A", "passkey_acc_B", "babi_acc_A"],
    note="effect = passkey key gain (nats/digit) of Exp B − Exp A, averaged over the lengths beyond one training "
    "sequence",
)

LAST_LAYER_ONLY = compound(
    "drex.last_layer_only",
    {
        "quality": all_seeds_beyond("quality", "val_loss_B_minus_B_last", -LAST_LAYER_MARGIN),
        "speed": all_seeds_beyond("speed", "last_layer_speedup_tokens_per_s", 1.0),
    },
    "all",
    seed_says="L4 in the last layer only: same quality at 2.7x speed (val ppl 2.33 vs 2.33, 500 steps; "
    "1.88 vs 1.75 over 3 seeds at 2000 steps)",
    evidence=["val_loss_B", "val_loss_B_last"],
    note="quality = val loss(all layers) − val loss(last layer), nats/char; speed = tokens/s ratio last/all "
    "(wall clock)",
)

# What each chapter registers with ``ch.rules`` (the same rules, grouped by the chapter that judges them).
CHAPTER_10 = {r.id: r for r in [TAU_OVER_L, RECALL_TASK_VALID, EMA_BOOTSTRAP]}
CHAPTER_11 = {r.id: r for r in [GATE_WRITE_RATES, WRITE_RATES_TRAINED, THRESH_070_BEST, NULL_GATE, NO_COMBINATION_GATE]}
CHAPTER_12 = {r.id: r for r in [EPISODIC_MEMORY_HELPS, LAST_LAYER_ONLY]}

RULES = {**CHAPTER_10, **CHAPTER_11, **CHAPTER_12}
