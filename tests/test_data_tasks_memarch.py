"""The memory-architectures tasks: brackets, copy, repeated elements, random tokens."""

import math

import numpy as np
import pytest

from memnb.data.tasks import make_mem_brackets, make_mem_copy, make_mem_random, make_mem_repeat

PAIRS = {")": "(", "]": "[", "}": "{", ">": "<"}


def well_nested(s: list[str]) -> bool:
    stack = []
    for c in s:
        if c in PAIRS.values():
            stack.append(c)
        elif not stack or stack.pop() != PAIRS[c]:
            return False
    return not stack


def answers(batch):
    """Every example's scored target symbols."""
    return [batch.vocab.decode(row[row != -100]) for row in batch.targets.numpy()]


def test_brackets_classify():
    batch = make_mem_brackets(600, seed=0, length=(16, 64), n_types=3)
    got = answers(batch)
    labels = np.array(batch.meta["label"])
    assert 0.45 < labels.mean() < 0.55
    kinds = set()
    for i in range(len(batch)):
        syms = batch.vocab.decode(batch.inputs[i].tolist())
        brackets = syms[: syms.index("<sep>")]
        assert got[i] == ["yes" if well_nested(brackets) else "no", "<eos>"]
        assert well_nested(brackets) == labels[i] and len(brackets) == batch.meta["length"][i]
        for opener, closer in (("(", ")"), ("[", "]"), ("{", "}")):  # counts never give the label away
            assert brackets.count(opener) == brackets.count(closer)
        kinds.add(batch.meta["corruption"][i])
    assert kinds == {None, "prefix", "crossing"}


def test_brackets_match_mode():
    batch = make_mem_brackets(200, seed=1, length=(2, 40), n_types=2, mode="match")
    got = answers(batch)
    for i in range(len(batch)):
        syms = batch.vocab.decode(batch.inputs[i].tolist())
        stack, expected, distances, count = [], [], [], 0
        for t, s in enumerate(syms):
            if s in ("(", "["):
                stack.append((s, count))
                count += 1
            elif s == "<close>":
                opener, at = stack.pop()
                expected.append({"(": ")", "[": "]"}[opener])
                distances.append(count - at)
                count += 1
                assert batch.targets[i, t] != -100
        assert got[i] == expected
        assert distances == batch.meta["distance"][i]


def test_copy():
    batch = make_mem_copy(100, seed=0, length=(16, 64), n_symbols=8)
    got = answers(batch)
    for i in range(len(batch)):
        syms = batch.vocab.decode(batch.inputs[i].tolist())
        x = syms[: syms.index("<sep>")]
        assert len(x) == batch.meta["length"][i]
        assert got[i] == [*x, "<eos>"]


def test_repeat():
    batch = make_mem_repeat(400, seed=0, length=(16, 256))
    got = answers(batch)
    labels = np.array(batch.meta["label"])
    assert 0.4 < labels.mean() < 0.6
    for i in range(len(batch)):
        syms = batch.vocab.decode(batch.inputs[i].tolist())
        x = syms[: syms.index("<sep>")]
        seen = x[-1] in x[:-1]
        assert got[i] == ["yes" if seen else "no", "<eos>"]
        distance = len(x) - 1 - max(j for j, s in enumerate(x[:-1]) if s == x[-1]) if seen else -1
        assert distance == batch.meta["distance"][i]
        assert batch.meta["base_rate"][i] == pytest.approx(1 - len(set(x[:-1])) / (len(x) - 1))


def test_random_tokens_are_a_pure_negative_control():
    batch = make_mem_random(2000, seed=0, length=32, n_symbols=4)
    assert batch.answer_mask[:, :].all()  # every next token is scored
    assert (batch.targets[:, :-1] == batch.inputs[:, 1:]).all()
    counts = np.bincount(batch.targets.flatten().numpy() - batch.vocab.id("t0"), minlength=4) / batch.targets.numel()
    assert np.allclose(counts, 0.25, atol=0.01)
    assert batch.meta["entropy"][0] == pytest.approx(math.log(4))


def test_memarch_bad_arguments():
    with pytest.raises(ValueError, match="even"):
        make_mem_brackets(2, seed=0, length=15)
    with pytest.raises(ValueError, match=r"n_types must be an int in \[1, 4\]"):
        make_mem_brackets(2, seed=0, n_types=5)
    with pytest.raises(ValueError, match="mode"):
        make_mem_brackets(2, seed=0, mode="count")
    with pytest.raises(ValueError, match="n_symbols must be >= length"):
        make_mem_repeat(2, seed=0, length=64, n_symbols=32)
