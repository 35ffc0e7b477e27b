import math

import pytest
from scipy import stats as sps

from memnb import stats


def test_summarize_t_interval_matches_hand_computation():
    s = stats.summarize([1.0, 2.0, 3.0])
    half = sps.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)  # sample sd of 1,2,3 is 1
    assert s["mean"] == 2.0 and s["n"] == 3
    assert s["ci95"] == pytest.approx([2 - half, 2 + half], abs=1e-6)


def test_single_value_has_no_interval_and_no_verdict():
    assert stats.summarize([0.5])["ci95"] is None
    assert stats.verdict([0.9]) == "INCONCLUSIVE"


@pytest.mark.parametrize(
    ("effects", "expected"),
    [
        ([0.30, 0.32, 0.31], "SUPPORTED"),
        ([-0.30, -0.32, -0.31], "REFUTED"),
        ([0.30, -0.01, 0.31], "INCONCLUSIVE"),  # one seed disagrees
        ([0.01, 0.5, 0.02], "INCONCLUSIVE"),  # all positive but the CI crosses 0
    ],
)
def test_verdict_rule(effects, expected):
    assert stats.verdict(effects) == expected


def test_margin_raises_the_bar():
    assert stats.verdict([0.10, 0.11, 0.12]) == "SUPPORTED"
    assert stats.verdict([0.10, 0.11, 0.12], margin=0.2) == "INCONCLUSIVE"


def test_non_finite_values_are_rejected():
    with pytest.raises(ValueError, match="finite"):
        stats.summarize([1.0, float("nan")])


def test_fmt():
    assert stats.fmt(stats.summarize([1.0, 1.0, 1.0])) == "1.000 ± 0.000 (n=3)"


# --- protocol 2: intervals, power, multiplicity -------------------------------------------------

A = [0.61, 0.72, 0.55, 0.68, 0.70]
B = [0.50, 0.58, 0.49, 0.60, 0.57]


def test_paired_t_interval_matches_scipy_ttest_rel():
    got = stats.paired_t_interval(A, B)
    ref = sps.ttest_rel(A, B).confidence_interval(0.95)
    assert got.estimate == pytest.approx(sum(a - b for a, b in zip(A, B, strict=True)) / 5)
    assert (got.lo, got.hi) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert got.n == 5 and got.df == 4


def test_t_interval_matches_scipy_t_interval():
    d = [0.3, 0.1, 0.25, 0.05]
    got = stats.t_interval(d)
    ref = sps.t.interval(0.95, 3, loc=sum(d) / 4, scale=sps.sem(d))
    assert (got.lo, got.hi) == pytest.approx(ref, abs=1e-12)
    assert got.se == pytest.approx(sps.sem(d))


def test_identical_differences_give_a_point_interval():
    got = stats.paired_t_interval([0.3, 0.4, 0.5], [0.2, 0.3, 0.4])  # every difference 0.1 (up to rounding)
    assert got.lo == got.hi == got.estimate
    assert stats.t_interval([0.25, 0.25, 0.25]).ci95 == [0.25, 0.25]


def test_one_seed_has_no_interval():
    assert stats.t_interval([0.4]).ci95 is None


def test_welch_interval_matches_scipy():
    got = stats.welch_interval(A, B)
    ref = sps.ttest_ind(A, B, equal_var=False).confidence_interval(0.95)
    assert (got.lo, got.hi) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_interval_closed_form():
    z = sps.norm.ppf(0.975)
    k, n = 8, 10
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert stats.wilson_interval(k, n) == pytest.approx((centre - half, centre + half))
    assert stats.wilson_interval(k, n) == pytest.approx((0.4902, 0.9433), abs=1e-4)  # textbook value
    lo, hi = stats.wilson_interval(0, 20)
    assert lo == 0.0 and 0 < hi < 0.2
    with pytest.raises(ValueError):
        stats.wilson_interval(3, 2)


def test_mde_is_t_quantiles_times_se():
    assert stats.mde(1.0, 2) == pytest.approx(sps.t.ppf(0.975, 2) + sps.t.ppf(0.8, 2))
    assert stats.mde(1.0, 2) == pytest.approx(5.36, abs=0.01)  # book/method.md §4: ≈ 5.4 SE at n = 3
    assert stats.mde(1.0, 4) == pytest.approx(3.72, abs=0.01)
    assert stats.mde(1.0, 7) == pytest.approx(3.26, abs=0.01)
    assert math.isnan(stats.mde(1.0, 0))


def test_bootstrap_is_deterministic_and_sane():
    per_seed = [[0.1, 0.2, 0.3, 0.0, 0.1], [0.2, 0.1, 0.4, 0.3], [0.0, 0.1, 0.2, 0.1, 0.2, 0.1]]
    a = stats.bootstrap_interval(per_seed, n_boot=2000, seed=7)
    b = stats.bootstrap_interval(per_seed, n_boot=2000, seed=7)
    assert a == b
    assert a.estimate == pytest.approx(sum(sum(g) / len(g) for g in per_seed) / 3)
    assert a.lo < a.estimate < a.hi and a.n == 3 and a.df == 2
    assert stats.bootstrap_interval(per_seed, n_boot=2000, seed=8) != a


def test_bootstrap_constant_values_give_that_value():
    got = stats.bootstrap_interval([[0.5, 0.5], [0.5, 0.5, 0.5], [0.5]], n_boot=100)
    assert got.ci95 == [0.5, 0.5]


def test_bootstrap_width_shrinks_with_more_examples():
    import numpy as np

    rng = np.random.default_rng(0)
    small = [rng.normal(0.1, 1, 20) for _ in range(5)]
    large = [rng.normal(0.1, 1, 2000) for _ in range(5)]
    ws = stats.bootstrap_interval(small, n_boot=1000)
    wl = stats.bootstrap_interval(large, n_boot=1000)
    assert wl.hi - wl.lo < ws.hi - ws.lo


def test_holm_adjusted_pvalues_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # running max
    assert stats.holm([]) == []


def test_holm_levels_step_down():
    p = [0.01, 0.04, 0.03, 0.005]
    # rank 1 (0.005) at 0.05/4, rank 2 (0.01) at 0.05/3, rank 3 (0.03) at 0.05/2 -> not rejected: stays
    assert stats.holm_levels(p) == pytest.approx([0.05 / 3, 0.025, 0.025, 0.0125])
    adj = stats.holm(p)
    assert [a <= 0.05 for a in adj] == [pl >= pv for pl, pv in zip(stats.holm_levels(p), p, strict=True)]


def test_one_sided_p_matches_scipy():
    d = [0.3, 0.1, 0.25, 0.05]
    assert stats.one_sided_p(d) == pytest.approx(sps.ttest_1samp(d, 0, alternative="greater").pvalue)
    assert stats.one_sided_p([0.2, 0.2, 0.2]) == 0.0
