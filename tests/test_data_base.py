"""TaskVocab, TaskBatch and the shared helpers of the task generators."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from memnb.data.tasks.base import (
    EOS,
    IGNORE,
    PAD,
    TaskVocab,
    as_range,
    build_batch,
    exact_match,
    insert_pieces,
    token_accuracy,
    word_start,
)

VOCAB = TaskVocab((PAD, EOS, "a1", "b2", "c3"))


def test_vocab_roundtrip_and_specials():
    assert VOCAB.size == len(VOCAB) == 5
    assert (VOCAB.pad, VOCAB.eos) == (0, 1)
    assert VOCAB.decode(VOCAB.encode(["c3", "a1"])) == ["c3", "a1"]
    assert VOCAB.render([2, 3, 1]) == "a1 b2 <eos>"
    assert not VOCAB.char_level
    chars = TaskVocab((PAD, EOS, "a", "b"))
    assert chars.char_level and chars.render([2, 3, 1]) == "ab<eos>"
    with pytest.raises(ValueError, match="unique"):
        TaskVocab((PAD, EOS, "a", "a"))
    with pytest.raises(ValueError, match="<pad>"):
        TaskVocab((EOS, "a"))
    with pytest.raises(KeyError, match="'z'"):
        VOCAB.id("z")


def test_build_batch_shifts_and_masks():
    seqs = [np.array([2, 3, 4, 1]), np.array([3, 2, 1])]
    scored = [np.array([0, 0, 1, 1], bool), np.array([0, 1, 1], bool)]
    batch = build_batch(seqs, scored, VOCAB, {"k": ["x", "y"]}, "toy")
    assert batch.inputs.tolist() == [[2, 3, 4], [3, 2, 1]]
    assert batch.targets.tolist() == [[IGNORE, 4, 1], [2, 1, IGNORE]]
    sub = batch[[1]]
    assert sub.inputs.tolist() == [[3, 2, 1]] and sub.meta == {"k": ["y"]} and sub.task == "toy"
    with pytest.raises(ValueError, match="first token"):
        build_batch([np.array([2, 1])], [np.array([1, 1], bool)], VOCAB, {}, "toy")


def test_exact_match_and_token_accuracy():
    batch = build_batch(np.array([[2, 3, 4, 1]] * 2), np.array([[0, 0, 1, 1]] * 2, bool), VOCAB, {}, "toy")
    pred = batch.targets.clamp(min=0).clone()  # right at every answer position
    pred[1, 2] = 0  # second example: the <eos> prediction is wrong
    logits = torch.nn.functional.one_hot(pred, VOCAB.size).float()
    assert exact_match(logits, batch).tolist() == [1.0, 0.0]
    assert token_accuracy(logits, batch).tolist() == [1.0, 0.5]
    assert exact_match(pred, batch).tolist() == [1.0, 0.0]  # predicted ids work too


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**31))
def test_insert_pieces_matches_a_loop(f, m, s, seed):
    rng = np.random.default_rng(seed)
    background = rng.integers(100, 200, size=(3, f))
    pieces = rng.integers(0, 100, size=(3, m, s))
    gaps = rng.integers(0, f + 1, size=(3, m))
    out, starts = insert_pieces(background, pieces, gaps)
    for r in range(3):
        expected = list(background[r])
        order = sorted(range(m), key=lambda j: (gaps[r, j], j))
        for shift, j in enumerate(order):  # insert in order; earlier pieces push later gaps right
            expected[gaps[r, j] + shift * s : gaps[r, j] + shift * s] = list(pieces[r, j])
        assert out[r].tolist() == expected
        for j in range(m):
            assert out[r, starts[r, j] : starts[r, j] + s].tolist() == pieces[r, j].tolist()


def test_as_range_messages():
    assert as_range("length", 5, 1, 9) == (5, 5)
    assert as_range("length", (2, 7), 1, 9) == (2, 7)
    for bad in (0, 10, (7, 2), (1,), "5", 2.5, True):
        with pytest.raises(ValueError, match=r"length must be .*\[1, 9\]"):
            as_range("length", bad, 1, 9)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab \n", max_size=30), st.data())
def test_word_start_lands_after_whitespace(text, data):
    pos = data.draw(st.integers(0, len(text)))
    p = word_start(text, pos)
    assert p == 0 or text[p - 1].isspace()
    later = [q for q in range(pos, len(text) + 1) if q == 0 or text[q - 1].isspace()]
    assert p == (later[0] if later else max(q for q in range(pos) if q == 0 or text[q - 1].isspace()))
