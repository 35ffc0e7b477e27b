"""Passkey, multi-needle and associative recall: answers re-derived from the inputs, no leaks."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memnb.data.tasks import make_assoc_recall, make_niah, make_passkey, passkey_texts


def prompt_symbols(batch, i):
    first = int((batch.targets[i] != -100).numpy().argmax())
    return batch.vocab.decode(batch.inputs[i, : first + 1].tolist()), first


def answer_symbols(batch, i):
    row = batch.targets[i].numpy()
    return batch.vocab.decode(row[row != -100])


def answer_positions(batch, i):
    return (batch.targets[i].numpy() != -100).nonzero()[0].tolist()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**40), length=st.integers(15, 400), k=st.integers(1, 6), depth=st.floats(0, 1))
def test_passkey_synthetic(seed, length, k, depth):
    batch = make_passkey(8, seed=seed, length=length, n_digits=k, depth=depth)
    assert batch.inputs.shape == (8, length)
    for i in range(8):
        prompt, first = prompt_symbols(batch, i)
        assert first == length - k - 1 and prompt[-1] == "<query>"
        key_at = prompt.index("<key>")
        key = prompt[key_at + 1 : key_at + 1 + k]
        assert answer_symbols(batch, i) == [*key, "<eos>"]
        assert "".join(key) == batch.meta["passkey"][i] and key[0] != "0"
        # digits occur only in the needle: every other prompt symbol is filler
        assert all(s.startswith("w") for j, s in enumerate(prompt[:-1]) if not key_at <= j <= key_at + k)
        assert key_at == batch.meta["needle_pos"][i]
        filler = length - 2 * k - 2
        assert key_at == round(depth * filler) and batch.meta["depth"][i] == pytest.approx(key_at / filler)


def test_passkey_corpus_filler():
    examples = passkey_texts(20, seed=3, length=(300, 900), depth=(0.1, 0.9))
    for e in examples:
        text = e.prompt + e.answer
        assert len(text) == e.meta["length"]
        key = re.fullmatch(r"\d{5}", e.answer).group()
        assert re.findall(r"\d+", e.prompt) == [key]  # digits only in the needle
        assert re.search(r"The pass key is (\d+)\. Remember it\.", e.prompt).group(1) == key
        assert e.prompt.endswith("What is the pass key? The pass key is ")
        pos = e.meta["needle_pos"]
        assert e.prompt[pos:].startswith("The pass key is") and (pos == 0 or e.prompt[pos - 1].isspace())
    batch = make_passkey(20, seed=3, length=(300, 900), depth=(0.1, 0.9), filler="corpus")
    assert batch.vocab.char_level
    for i, e in enumerate(examples):
        n = e.meta["length"]
        assert batch.vocab.render(batch.inputs[i, :n].tolist()) == e.prompt + e.answer  # one token per character
        assert "".join(answer_symbols(batch, i)) == e.answer + "<eos>"
        assert answer_positions(batch, i) == list(range(n - 6, n))


def test_niah_answer_and_no_leak():
    batch = make_niah(200, seed=0, length=(40, 300), n_distractors=4)
    for i in range(len(batch)):
        prompt, _ = prompt_symbols(batch, i)
        assert prompt[-2] == "<query>"
        asked = prompt[-1]
        needles = {prompt[j + 1]: prompt[j + 2] for j, s in enumerate(prompt) if s == "<key>"}
        assert len(needles) == 5  # distinct keys
        value = needles[asked]
        assert answer_symbols(batch, i) == [value, "<eos>"]
        assert prompt.count(value) == 1 and len(set(needles.values())) == 5
        assert prompt[batch.meta["needle_pos"][i] + 1] == asked


def test_niah_depth_places_the_queried_needle():
    batch = make_niah(50, seed=1, length=200, n_distractors=2, depth=1.0)
    assert np.allclose(batch.meta["depth"], 1.0)
    for i in range(50):
        prompt, _ = prompt_symbols(batch, i)
        pos = batch.meta["needle_pos"][i]
        assert prompt[pos] == "<key>" and prompt[pos + 1] == prompt[-1]


@pytest.mark.parametrize("n_queries", [1, 3])
def test_assoc_recall_answers(n_queries):
    batch = make_assoc_recall(300, seed=0, n_pairs=(4, 20), n_queries=n_queries)
    for i in range(len(batch)):
        syms = batch.vocab.decode(batch.inputs[i].tolist())
        sep = syms.index("<sep>")
        pairs = syms[:sep]
        table = dict(zip(pairs[::2], pairs[1::2], strict=True))
        assert len(table) == batch.meta["n_pairs"][i]  # keys distinct
        expected = []
        for t in answer_positions(batch, i)[:-1]:  # each answer: look up the key just read
            expected.append(table[syms[t]])
        assert answer_symbols(batch, i) == [*expected, "<eos>"]
        asked = [pairs[2 * j] for j in batch.meta["query_index"][i]]
        assert asked == [syms[t] for t in answer_positions(batch, i)[:-1]]


def test_retrieval_bad_arguments():
    with pytest.raises(ValueError, match="filler"):
        make_passkey(2, seed=0, filler="noise")
    with pytest.raises(ValueError, match=r"length must be .*\[13,"):
        make_passkey(2, seed=0, length=12, n_digits=5)
    with pytest.raises(ValueError, match="depth"):
        make_passkey(2, seed=0, depth=1.5)
    with pytest.raises(ValueError, match=r"n_distractors must be an int in \[0, 31\]"):
        make_niah(2, seed=0, n_distractors=32)
    with pytest.raises(ValueError, match="n_queries"):
        make_assoc_recall(2, seed=0, n_pairs=(2, 8), n_queries=3)
    with pytest.raises(ValueError, match="n_pairs"):
        make_assoc_recall(2, seed=0, n_pairs=65)
