"""Value checks of the session-viability harness: the seed's session verbatim, scorers, retrieval."""

import pytest

from memnb.ams import sessions as S


def test_replica_facts_and_queries_verbatim():
    assert len(S.REPLICA_FACTS) == 20 and len(S.REPLICA_QUERIES) == 10
    assert S.REPLICA_FACTS[0] == "I love classical piano, especially Chopin nocturnes."
    assert S.REPLICA_FACTS[6] == "I collect vinyl records; my latest is Kind of Blue by Miles Davis."
    assert S.REPLICA_FACTS[19] == "Honey crystallizes faster when stored below about ten degrees Celsius."
    assert S.REPLICA_QUERIES[7] == ("What cuisine should I avoid because of allergies?", "thai")
    assert [kw for _, kw in S.REPLICA_QUERIES] == [
        "chopin", "beethoven", "tokyo", "engineer", "max", "mandarin", "davis", "thai", "brown", "coral",
    ]  # fmt: skip
    # every keyword occurs in its target fact (query i targets fact i)
    for i, (_, kw) in enumerate(S.REPLICA_QUERIES):
        assert kw in S.REPLICA_FACTS[i].lower()
    s10, s20 = S.replica_session(10), S.replica_session(20)
    assert s10.facts == list(S.REPLICA_FACTS[:10]) and s20.queries == s10.queries
    with pytest.raises(ValueError, match="N=10 or N=20"):
        S.replica_session(15)


def test_scorers_on_hand_written_strings():
    assert S.substring_hit("avoid the cuisine of Thailand", "thai")  # the seed's false positive
    assert not S.word_hit("avoid the cuisine of Thailand", "thai")
    assert not S.word_hit("the maximum speed", "max") and S.word_hit("His name is Max.", "max")
    assert S.strict_hit(" Max. Then Tokyo.", "max") and not S.strict_hit(" Rex. My dog Max.", "max")
    assert S.first_sentence("  Kofi is here.\nmore") == "Kofi is here"
    assert S.degeneracy([1, 1, 1, 1]) == (0.25, 4)
    assert S.degeneracy([1, 2, 3, 3]) == (0.75, 2)
    assert S.degeneracy([]) == (1.0, 0)
    lo, hi = S.wilson(3, 10)
    assert abs(lo - 0.1078) < 1e-3 and abs(hi - 0.6032) < 1e-3  # the AMS appendix's [11, 60]


def test_random_sessions_hold_out_entities_and_point_at_gold():
    s = S.make_session(3, n_identity=4, n_distractors=4)
    assert len(s.facts) == 8 and len(s.queries) == 4
    heldout = {e.lower() for slot in S.SLOTS for e in slot.heldout}
    train = {e.lower() for slot in S.SLOTS for e in slot.train}
    assert not heldout & train
    for (q, kw, gold), ent in zip(s.queries, s.answers, strict=True):
        assert kw in heldout and ent in s.facts[gold] and q.endswith("?")
    assert S.make_session(3, n_identity=4, n_distractors=4).facts == s.facts  # deterministic
    with pytest.raises(ValueError, match="n_identity"):
        S.make_session(0, n_identity=0)


def test_bm25():
    facts = list(S.REPLICA_FACTS[:10])
    assert S.bm25_rank(facts, "What is my dog's name?")[0] == 4
    assert S.bm25_rank(facts, "Where did I travel last summer?")[0] == 2
