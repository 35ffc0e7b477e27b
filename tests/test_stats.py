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
