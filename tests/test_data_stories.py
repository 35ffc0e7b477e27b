"""Procedural stories: seeded, topic-labelled, with names held out of training."""

import re

import pytest

from memnb.data.stories import HELDOUT_NAMES, TOPICS, TRAIN_NAMES, make_stories, stories_dataset


def test_stories_are_deterministic_and_labelled():
    a, b, c = make_stories(50, seed=1), make_stories(50, seed=1), make_stories(50, seed=2)
    assert a == b and a != c
    for s in a:
        assert s["topic"] in TOPICS and s["entities"][0] in s["text"]
        assert all(e in s["text"] for e in s["entities"])
        assert s["text"][0].isupper() and s["text"].endswith((".", '"', "!"))


def test_sentence_count_is_controlled():
    for n in (3, 8, 16):
        for s in make_stories(20, seed=0, n_sentences=n):
            assert len(re.findall(r"[.!?](?:\"|$|\s)", s["text"])) >= n - 1  # quotes may add sentence ends
    with pytest.raises(ValueError, match="n_sentences"):
        make_stories(2, seed=0, n_sentences=2)


def test_heldout_names_never_appear_in_training_text():
    held = [n for n, _ in HELDOUT_NAMES]
    train = stories_dataset(500, 50, 50, seed=0)
    for split in ("train", "validation"):
        assert not any(re.search(rf"\b{n}\b", t) for t in train[split]["text"] for n in held)
    test_names = {e for es in train["test"]["entities"] for e in es}
    assert test_names <= set(held) and not test_names & {n for n, _ in TRAIN_NAMES}
    assert set(train["train"]["topic"]) == set(TOPICS)
