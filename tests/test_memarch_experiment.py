"""The memory-architectures loop: chance levels, scoring, determinism, the equivalence rule."""

import math

import pandas as pd
import pytest
import torch

from memnb.memarch import TASK_SETTINGS, ArmConfig, RunConfig, chance, run_arm, run_grid
from memnb.memarch.experiment import informative_mask, make_batch, score


def test_chance_levels() -> None:
    assert chance("mem_copy", TASK_SETTINGS["mem_copy"]) == {"loss": math.log(16), "accuracy": 1 / 16}
    assert chance("mem_brackets", TASK_SETTINGS["mem_brackets"])["loss"] == pytest.approx(math.log(4))
    assert chance("mem_repeat", TASK_SETTINGS["mem_repeat"])["accuracy"] == 0.5
    with pytest.raises(ValueError, match="no chance level"):
        chance("parity", {})


def test_score_excludes_eos_and_is_exact_on_one_hot_logits() -> None:
    batch = make_batch(RunConfig("mem_copy", TASK_SETTINGS["mem_copy"]), 4, 0, 8)
    mask = informative_mask(batch)
    assert (mask.sum(1) == 8).all()  # the 8 copied tokens, not the closing <eos>
    targets = batch.targets.clamp(min=0)
    perfect = 50.0 * torch.nn.functional.one_hot(targets, batch.vocab.size).float()
    s = score(perfect, batch)
    assert s["accuracy"] == 1.0 and s["exact_match"] == 1.0 and s["loss"] < 1e-6
    uniform = score(torch.zeros(4, batch.inputs.size(1), batch.vocab.size), batch)
    assert uniform["loss"] == pytest.approx(math.log(batch.vocab.size), rel=1e-6)


def test_run_is_a_pure_function_of_its_seed() -> None:
    run = RunConfig("mem_copy", TASK_SETTINGS["mem_copy"], train_lengths=(4, 8), test_lengths=(8,), steps=3,
                    batch_size=4, n_eval=4)  # fmt: skip
    cfg = ArmConfig(d_model=16, n_heads=2, capacity=32)
    a, b = (run_arm("kv_memory", run, cfg, seed=3)["rows"] for _ in range(2))
    assert a == b


def test_grid_numbers_do_not_depend_on_the_number_of_workers() -> None:
    kw = dict(train_lengths=(4, 8), test_lengths=(8, 12), steps=2, batch_size=4, n_eval=4)
    cfg = ArmConfig(d_model=16, n_heads=2, capacity=32, window=3)
    one = run_grid(["nope", "kv_memory"], ["mem_copy"], [3], cfg, workers=1, **kw)
    two = run_grid(["nope", "kv_memory"], ["mem_copy"], [3], cfg, workers=2, **kw)
    pd.testing.assert_frame_equal(one[0], two[0])
    cols = ["task", "seed", "arm", "steps", "final_train_loss", "future_leak"]
    pd.testing.assert_frame_equal(one[1][cols], two[1][cols])


def test_bad_run_settings_name_the_fix() -> None:
    with pytest.raises(ValueError, match="memarch tasks"):
        RunConfig("parity")
    with pytest.raises(ValueError, match="train_lengths"):
        RunConfig("mem_copy", train_lengths=(8, 4))
