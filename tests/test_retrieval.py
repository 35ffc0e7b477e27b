"""Entropy-gated retrieval: entropy, the read trigger, engram keys, needles and the NIAH ranks."""

import math

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.hrs.retrieval import engram_store, entropy, haystack, needles, niah


def test_entropy_bits_known_values():
    assert entropy.entropy_bits(torch.zeros(3, 64)).tolist() == pytest.approx([6.0] * 3, abs=1e-6)
    p = torch.tensor([0.5, 0.25, 0.25])
    assert float(entropy.entropy_bits(p.log())) == pytest.approx(1.5, abs=1e-6)
    assert float(entropy.entropy_bits(torch.tensor([50.0, 0.0, 0.0]))) < 1e-10


def test_trigger_fires_after_a_full_window_then_cools_down():
    assert entropy.trigger_steps([5.0] * 25, threshold=4.0, window=10, cooldown=10) == [9, 20]
    assert entropy.trigger_steps([3.0] * 25, threshold=4.0) == []
    spike = [1.0] * 12 + [9.0] * 5 + [1.0] * 10  # the mean of the last 10 crosses 4 at step 15 and stays
    # above it until step 22, so after the 3-step cooldown it fires again at 19
    assert entropy.trigger_steps(spike, threshold=4.0, window=10, cooldown=3) == [15, 19]
    with pytest.raises(ValueError, match="window >= 1"):
        entropy.trigger_steps([1.0], threshold=1.0, window=0)


def _tiny_lm() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=2, n_head=2)).eval()


def test_encode_is_padding_invariant_and_unit_norm():
    model = _tiny_lm()
    short, long = [3, 7, 1, 9], [5, 2, 8, 8, 1, 30, 12, 4, 4]
    alone = engram_store.encode(model, [short], layer=1)
    batched = engram_store.encode(model, [long, short], layer=1)
    np.testing.assert_allclose(batched.means[1], alone.means[0], atol=1e-5)
    np.testing.assert_allclose(batched.entropy[1], alone.entropy[0], atol=1e-5)
    keys = engram_store.keys(batched.means, batched.means.mean(0))
    np.testing.assert_allclose(np.linalg.norm(keys, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(keys[0], -keys[1], atol=1e-6)  # two texts centred on their mean point apart
    assert 0 < alone.entropy[0] <= math.log2(40) + 1e-6
    with pytest.raises(ValueError, match="layer must be in 0..2"):
        engram_store.encode(model, [short], layer=3)


def test_rank_counts_ties_against_the_needle():
    docs = np.array([[1.0, 0.0], [0.0, 1.0]])
    pool = np.array([[1.0, 0.0], [0.6, 0.8]])
    sims = niah.similarities(docs, pool, {"question": docs, "paraphrase": docs})
    stored = {"needles": np.ones(2, bool), "pool": np.ones(2, bool)}
    kw = dict(pool="places", n_distractors=2, query="question", n_needles=2, seed=0)
    # needle 0 ties with pool passage 0 (rank 2); needle 1 (cos 1) beats 0.8 and 0 (rank 1)
    assert niah.needle_ranks(sims, stored, **kw).tolist() == [2, 1]
    stored["pool"][0] = False  # a passage the gate refused cannot compete
    assert niah.needle_ranks(sims, stored, **kw).tolist() == [1, 1]


def test_needles_are_distinct_and_paraphrases_never_name_them():
    ns = needles.make_needles(60, seed=1)
    assert len({n.name for n in ns}) == 60 and ns == needles.make_needles(60, seed=1)
    for n in ns:
        assert n.name in n.question and n.name in n.text and all(a in n.text for a in n.answer)
        invented = {n.name, *n.answer[0].split()}
        assert not any(w in n.paraphrase for w in invented)


def test_paraphrases_share_no_content_word_with_their_needle():
    # every needle the template can make (all 900 kind x colour x count triples over 3 draws of 400)
    for seed in range(3):
        for n in needles.make_needles(needles.MAX_NEEDLES, seed=seed):
            assert needles.shared_content_words(n.paraphrase, n.text) == set(), n.paraphrase
            assert len(needles.content_words(n.paraphrase)) >= 5
    # the check sees a shared word and a shared 5-letter stem, and ignores stopwords
    assert needles.shared_content_words("Which bell rings?", "the bell that rang") == {"bell"}
    assert needles.shared_content_words("who founded it", "its founder") == {"founded"}
    assert needles.shared_content_words("the of and", "the of and") == set()
    # the book's first paraphrase repeated the needle's words: the check finds them
    old = "Which library has grey gates and a bell that rings twelve times at dawn?"
    text = "The library of Mizan ... its grey gates and the bell that rings twelve times at dawn."
    assert needles.shared_content_words(old, text) == {
        "library",
        "grey",
        "gates",
        "bell",
        "rings",
        "twelve",
        "times",
        "dawn",
    }


def test_same_domain_distractors_are_varied_and_deterministic():
    ps = haystack.places(60, seed=3)
    assert ps == haystack.places(60, seed=3) and ps != haystack.places(60, seed=4)
    assert len(set(ps)) == 60 and all(p.endswith(".") for p in ps)
    vocab = set(needles.KINDS) | set(needles.COLOURS)
    assert all(needles.content_words(p) & vocab for p in ps)  # the needles' vocabulary, the needles' register


def test_bm25_ranks_the_named_needle_first_and_not_the_paraphrase():
    ns = needles.make_needles(30, seed=0)
    pool = haystack.places(40, seed=0)
    sims = niah.bm25_sims(ns, pool)
    stored = {"needles": np.ones(30, bool), "pool": np.ones(40, bool)}
    kw = dict(pool="places", n_distractors=20, n_needles=30, seed=0)
    assert niah.scores(niah.needle_ranks(sims, stored, query="question", **kw))["recall1"] == 1.0
    assert niah.scores(niah.needle_ranks(sims, stored, query="paraphrase", **kw))["recall1"] <= 0.3
    assert len({n.name for n in needles.make_needles(needles.MAX_NEEDLES, seed=2)}) == needles.MAX_NEEDLES
    with pytest.raises(ValueError, match="n must be in 1..400"):
        needles.make_needles(0, seed=0)


def test_tfidf_finds_named_needles_and_the_gate_decides_what_can_be_found():
    ns = needles.make_needles(30, seed=0)
    pool = niah.passages(["word " * 400 + "other " * 400], words=20)
    assert len(pool) == 40 and all(len(p.split()) == 20 for p in pool)
    keys = niah.tfidf_sims(ns, pool)
    stored = {"needles": np.ones(30, bool), "pool": np.ones(40, bool)}
    kw = dict(n_distractors=20, n_needles=30, seed=0)
    named = niah.scores(niah.needle_ranks(keys, stored, pool="needles", query="question", **kw))
    assert named["recall1"] >= 0.9  # the invented name is shared by question and needle only
    stored["needles"][:10] = False  # the gate refused 10 needles: they are misses
    ranks = niah.needle_ranks(keys, stored, pool="places", query="question", **kw)
    assert (ranks[:10] == 0).all() and niah.scores(ranks)["recall5"] <= 2 / 3
    with pytest.raises(ValueError, match="asked for 41 distractors"):
        niah.needle_ranks(keys, stored, pool="places", query="question", n_distractors=41, n_needles=3, seed=0)


def test_generation_entropies_match_a_direct_rescoring():
    model = _tiny_lm()
    ents = entropy.generation_entropies(model, [1, 2, 3], 5, seed=0)
    assert len(ents) == 5 and all(0 <= h <= math.log2(40) + 1e-6 for h in ents)
