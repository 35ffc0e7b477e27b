"""The rules chapters 32, 33 and 40 register (``ch.rules``) are the rules files' rules.

Chapter 32's scaling and classifier rules are built for a profile's scales
(``memnb.hrs.rules.chapter_32``); at the `cpu` profile, whose results are published, they must be the
rules in ``RULES``, hash for hash.
"""

from memnb.ams import rules as ams_rules
from memnb.hrs import rules as hrs_rules
from memnb.hrs.presets import TopicRouting


def _hashes(rules: dict) -> dict:
    return {k: r.rule_hash() for k, r in rules.items()}


def test_chapter_32_at_cpu_is_the_published_rules():
    p = TopicRouting.resolve("cpu")
    registered = hrs_rules.chapter_32(p.article_len, p.sentence_len)
    assert _hashes(registered) == {k: hrs_rules.RULES[k].rule_hash() for k in registered}
    assert _hashes(hrs_rules.CHAPTER_32) == _hashes(registered)


def test_chapter_32_reads_the_profiles_scales():
    p = TopicRouting.resolve("ci")
    registered = hrs_rules.chapter_32(p.article_len, p.sentence_len)
    names = {m for r in registered.values() for m in r.metric_names()}
    assert {f"acc_threshold_L{p.article_len}", f"acc_threshold_L{p.sentence_len}", f"acc_mlp_L{p.article_len}"} <= names
    assert not any(m.endswith(f"_L{hrs_rules.ARTICLE_LEN}") for m in names)
    assert _hashes(registered)["hrs.mauve_contamination"] == hrs_rules.MAUVE_CONTAMINATION.rule_hash()


def test_chapter_32_deltas_are_half_the_seeds_numbers():
    assert abs(hrs_rules.DELTA_SCALING - (0.973 - 0.715) / 2) < 5e-4
    assert abs(hrs_rules.DELTA_NLL - hrs_rules.SEED_PPL_RISE / 2) < 5e-4
    assert abs(hrs_rules.DELTA_MAUVE - (0.962 - 0.919) / 2) < 1e-9


def test_chapters_33_and_40_register_rules_from_RULES():
    assert hrs_rules.CHAPTER_33 == {"hrs.exp_kernel": hrs_rules.RULES["hrs.exp_kernel"]}
    assert ams_rules.CHAPTER_40 == ams_rules.RULES
