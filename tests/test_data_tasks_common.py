"""Properties every registered task generator shares: determinism, IID/OOD labels, checks, speed."""

import time

import numpy as np
import pytest
import torch

from memnb.data.tasks import TASKS, TaskBatch, task_ranges

SPEED = {"passkey": {"length": 512}, "niah": {"length": 512}}  # others: their IID defaults


def same(a: TaskBatch, b: TaskBatch) -> bool:
    return a.inputs.shape == b.inputs.shape and torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_deterministic_and_seed_sensitive(name):
    a, b, c = (TASKS[name](16, seed=s) for s in (5, 5, 6))
    assert same(a, b) and a.meta == b.meta
    assert not same(a, c)
    assert a.task == name
    assert all(len(v) == 16 for v in a.meta.values())


@pytest.mark.parametrize("name", sorted(TASKS))
def test_iid_default_and_ood_conditions(name):
    ranges = task_ranges(name)
    param, (lo, hi) = ranges["param"], ranges["iid"]
    batch = TASKS[name](50, seed=0)
    assert batch.meta["split"] == ["iid"] * 50
    assert all(lo <= v <= hi for v in batch.meta[param])
    for value in ranges["ood"]:
        assert not lo <= value <= hi
        ood = TASKS[name](3, seed=0, **{param: value})
        assert ood.meta["split"] == ["ood"] * 3 and ood.meta[param] == [value] * 3


@pytest.mark.parametrize("name", sorted(TASKS))
def test_answers_are_scored_and_in_vocab(name):
    batch = TASKS[name](32, seed=1)
    assert batch.inputs.dtype == batch.targets.dtype == torch.int64
    assert batch.inputs.shape == batch.targets.shape
    assert (batch.answer_mask.sum(1) >= 1).all()
    assert 0 <= int(batch.inputs.min()) and int(batch.inputs.max()) < batch.vocab.size
    assert int(batch.targets[batch.answer_mask].max()) < batch.vocab.size
    # teacher forcing: every scored target is the next input token (or the final <eos>)
    t = batch.targets[:, :-1]
    assert torch.equal(t[t != -100], batch.inputs[:, 1:][t != -100])


@pytest.mark.parametrize("name", sorted(TASKS))
def test_bad_arguments_name_the_valid_range(name):
    param = task_ranges(name)["param"]
    for kwargs in ({"n": 0}, {"n": -3}, {"seed": -1}, {"seed": 1.5}, {param: -7}, {param: (5, 2)}):
        call = {"n": 2, "seed": 0, **kwargs}
        key = next(iter(kwargs))
        with pytest.raises(ValueError, match=key if key in ("n", "seed") else param):
            TASKS[name](call.pop("n"), **call)


def test_speed():
    slow = {}
    for name in sorted(TASKS):
        start = time.process_time()  # CPU seconds: other jobs on the machine do not count
        TASKS[name](1000, seed=0, **SPEED.get(name, {}))
        slow[name] = time.process_time() - start
    assert max(slow.values()) < 2.0, slow
    assert np.median(list(slow.values())) < 0.5, slow
