"""ReLSM's algorithmic tasks: every answer re-derived from the prompt by an independent solver."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memnb.data.tasks import TASKS, task_ranges
from memnb.data.tasks.algorithmic import NAMES


def balanced(brackets: str) -> bool:
    depth = 0
    for c in brackets:
        depth += 1 if c == "(" else -1
        if depth < 0:
            return False
    return depth == 0


def solve(task: str, prompt: list[str]) -> list[str]:
    """The answer symbols (plus <eos>) for a prompt ``<task>: ... <sep>``, computed from scratch."""
    assert prompt[0] == f"{task}:" and prompt[-1] == "<sep>"
    s = "".join(prompt[1:-1])
    if task == "mod_add":
        a, b, m = map(int, re.fullmatch(r"\((\d+)\+(\d+)\)%(\d+)", s).groups())
        out = str((a + b) % m)
    elif task == "parity":
        out = str(s.count("1") % 2)
    elif task in ("addition", "chain"):
        out = str(sum(int(x) for x in s.split("+")))
    elif task == "multiplication":
        a, b = s.split("*")
        out = str(int(a) * int(b))
    elif task == "copy":
        out = s
    elif task == "reverse":
        out = s[::-1]
    elif task == "dyck":
        return ["yes" if balanced(s) else "no", "<eos>"]
    elif task == "compare":
        a, b = map(int, s.split("?"))
        return ["<" if a < b else ">" if a > b else "=", "<eos>"]
    elif task == "successor":
        out = str(int(s) + 1)
    return [*out, "<eos>"]


def check_answers(task, batch):
    inputs, targets = batch.inputs.numpy(), batch.targets.numpy()
    for i in range(len(batch)):
        mask = targets[i] != -100
        first = int(mask.argmax())
        prompt = batch.vocab.decode(inputs[i, : first + 1])
        assert batch.vocab.decode(targets[i, mask]) == solve(task, prompt), batch.show(i)
        assert mask[first : first + int(mask.sum())].all()  # one contiguous answer span


@pytest.mark.parametrize("task", NAMES)
def test_answers_follow_from_the_prompt(task):
    check_answers(task, TASKS[task](300, seed=1))
    for value in task_ranges(task)["ood"]:
        check_answers(task, TASKS[task](30, seed=2, **{task_ranges(task)["param"]: value}))


@settings(max_examples=15, deadline=None)
@given(task=st.sampled_from(NAMES), seed=st.integers(0, 2**40), data=st.data())
def test_answers_follow_for_any_seed_and_size(task, seed, data):
    lo, hi = task_ranges(task)["iid"][0], max(task_ranges(task)["ood"])
    size = data.draw(st.integers(lo, hi).map(lambda k: k + k % 2 if task == "dyck" else k))
    check_answers(task, TASKS[task](20, seed=seed, **{task_ranges(task)["param"]: size}))


def test_operand_sizes():
    batch = TASKS["addition"](200, seed=0, digits=(3, 5))
    for i, d in enumerate(batch.meta["digits"]):
        a, b = "".join(batch.vocab.decode(batch.inputs[i].tolist())).split("<sep>")[0][9:].split("+")
        assert len(a) == len(b) == d and a[0] != "0" and b[0] != "0"
    batch = TASKS["multiplication"](200, seed=0, digits=1)
    operands = ["".join(batch.vocab.decode(row.tolist())).split("<sep>")[0][15:] for row in batch.inputs]
    assert all(int(x) >= 2 for pair in operands for x in pair.split("*"))


def test_dyck_negatives_keep_counts_equal_and_labels_balanced():
    batch = TASKS["dyck"](1000, seed=0)
    labels = np.array(batch.meta["label"])
    assert 0.45 < labels.mean() < 0.55
    for i in range(len(batch)):
        s = "".join(t for t in batch.vocab.decode(batch.inputs[i].tolist()) if t in "()")
        assert s.count("(") == s.count(")") == batch.meta["length"][i] // 2
        assert balanced(s) == labels[i]


def test_compare_labels_are_balanced():
    batch = TASKS["compare"](900, seed=0)
    answers = [batch.vocab.decode(row[row != -100])[0] for row in batch.targets.numpy()]
    counts = {a: answers.count(a) for a in "<>="}
    assert all(250 < c < 350 for c in counts.values()), counts


def test_chain_base_ends_in_nines():
    batch = TASKS["chain"](100, seed=0)
    for i in range(100):
        base = "".join(batch.vocab.decode(batch.inputs[i].tolist())).split("+")[0][6:]
        run = batch.meta["nines"][i]
        assert base.endswith("9" * run) and base[-run - 1] != "9" and 24 <= len(base) <= 32


def test_bad_arguments():
    with pytest.raises(ValueError, match="multiple of 2"):
        TASKS["dyck"](4, seed=0, length=7)
    with pytest.raises(ValueError, match=r"digits must be .*\[1, 18\]"):
        TASKS["multiplication"](4, seed=0, digits=19)
    with pytest.raises(ValueError, match="modulus"):
        TASKS["mod_add"](4, seed=0, modulus=1)
