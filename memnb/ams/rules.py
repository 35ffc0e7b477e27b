"""AMS v4's claims (chapter 40): the rules they are judged by, as data, with no results.

The chapter's current (protocol-1) rules over the metric names of ``results/cpu/40_ams_v4.json``.
"""

from __future__ import annotations

from memnb.verdicts import clause, diff
from memnb.verdicts.templates import all_or_none_seeds, all_seeds_beyond, check, compound

S, R = "SUPPORTED", "REFUTED"
RECALL_MARGIN = 0.10  # the smallest difference the seed's 10-query table can show
COLLAPSE_COS = 0.9  # mean off-diagonal topic cosine above which the bases have collapsed (seed: > 0.99)
KAKEYA_ERR = 0.15  # the seed's invariant 5: median relative reconstruction error <= 0.15

PREFIX_NORM_FAILURE = compound(
    "ams.prefix_norm_failure",
    {
        "loud": all_or_none_seeds("loud", check("e1_ln_norm_ratio", ">", 5.0)),
        "quiet": all_or_none_seeds("quiet", check("e1_ln_norm_ratio", "<=", 1.0)),
        "fluency": all_seeds_beyond("fluency", diff("e1_learnable_distinct", "e1_ln_distinct"), 0.0),
    },
    "decision",
    supported_if=[clause(loud=S, fluency=S)],
    refuted_if=[clause(fluency=R), clause(quiet=S)],
    seed_says="LN prefix ~20x louder than tokens (||prefix|| ~39 vs ~2) -> repetition; learnable scale fixes fluency",
    evidence=["e1_distinct_gain"],
    note="e1_ln_norm_ratio = LN-only slot/token norm ratio after training; fluency = distinct ratio of A's greedy "
    "answers, LN × learnable − LN only",
)

TOPIC_COLLAPSE = compound(
    "ams.topic_collapse",
    {
        "collapse": all_or_none_seeds("collapse", check("e2_a_raw_offdiag_mean", ">", COLLAPSE_COS)),
        "no_collapse": all_seeds_beyond("no_collapse", "e2_a_raw_offdiag_mean", COLLAPSE_COS, side="below"),
        "spread": all_seeds_beyond("spread", diff("e2_a_raw_offdiag_mean", "e2_c_hinge_offdiag_mean"), 0.0),
    },
    "decision",
    supported_if=[clause(collapse=S, spread=S)],
    refuted_if=[clause(no_collapse=S), clause(spread=R)],
    seed_says="pairwise topic cos > 0.99 under raw-token Jaccard; content Jaccard + diversity hinge spreads them "
    "(1/5 queries right)",
    evidence=["e2_c_hinge_top1", "topic_bm25_top1"],
    note="a, c = mean off-diagonal topic cosine under (a) raw-id Jaccard and (c) content Jaccard + diversity hinge",
)

PREFIX_ONLY_RECALL = compound(
    "ams.prefix_only_recall",
    {
        "recall": all_seeds_beyond("recall", diff("substring_A_trained", "substring_floor"), RECALL_MARGIN),
        "power": all_seeds_beyond("power", diff("substring_oracle", "substring_floor"), RECALL_MARGIN),
    },
    "decision",
    supported_if=[clause(recall=S)],
    refuted_if=[clause(recall=R, power=S)],
    seed_says="trained A recalls facts (seed: A at N=20 fresh 0%, trained 0%; C 20% -> 30%; gate 50/70 failed)",
    evidence=["A_minus_floor_substring", "choice_A_trained"],
    note="substring hits on random held-out sessions; power (the text oracle more than 10 points above the floor) "
    "was added after a first cpu run showed the reader's own ceiling at the floor",
)

TOPK_FILTER_CLOSES_GAP = compound(
    "ams.topk_filter_closes_gap",
    {
        "top4": all_seeds_beyond("top4", "topk_gap_effect", 0.0),
        "gold_only": all_seeds_beyond("gold_only", "oracle_filter_gap_effect", 0.0),
    },
    "decision",
    supported_if=[clause(top4=S)],
    refuted_if=[clause(gold_only=R)],
    seed_says="filtering to top-k memories before cross-bundle attention closes the recall gap (proposed, untested)",
    evidence=["substring_A_qa", "substring_Atop4_qa", "substring_Agold_qa", "substring_oracle"],
    note="e = hit(filtered A) − hit(A) − 0.5·(hit(oracle text) − hit(A)), QA-trained prefix, substring hits: "
    "top4 = the real top-4 filter, gold_only = a perfect (oracle) filter",
)

KAKEYA_COMPRESSES = compound(
    "ams.kakeya_compresses",
    {
        "error": all_seeds_beyond("error", "e5_out_err_N20_set0", KAKEYA_ERR, side="below"),
        "compression": all_seeds_beyond("compression", "e5_raw_over_stored_N20", 1.0),
    },
    "all",
    seed_says="Kakeya sets compress the stored context, median relative reconstruction error <= 0.15 "
    "(synthetic data only)",
    evidence=["e5_out_err_centred_N20_set0", "e5_synthetic_median_err"],
    note="N = 20, set 0: out-of-sample median relative error vs ||v||, and raw floats / stored floats, per seed",
)

RULES = {
    r.id: r
    for r in [PREFIX_NORM_FAILURE, TOPIC_COLLAPSE, PREFIX_ONLY_RECALL, TOPK_FILTER_CLOSES_GAP, KAKEYA_COMPRESSES]
}

CHAPTER_40 = dict(RULES)  # chapter 40 judges every AMS claim
