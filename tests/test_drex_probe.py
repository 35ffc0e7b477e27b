"""Value checks for memnb.drex: the task layouts, the closed-form write rate, the probe."""

import numpy as np
import pytest
import torch

from memnb.drex import theory
from memnb.drex.experiment import evaluate, linear_probe
from memnb.drex.probe import ProbeConfig, RecallProbe
from memnb.drex.task import FILLER, MARKER, QUERY, make_recall


def test_seed_layout_and_target():
    b = make_recall(50, 20, rng=np.random.default_rng(0), layout="seed")
    t = b.tokens
    assert (t[:, -1] == QUERY).all() and (t[:, -3] == MARKER).all() and (t[:, 10:-3] == FILLER).all()
    for row, target, decoy in zip(t, b.target, b.decoy, strict=True):
        keys, vals = row[0:10:2].tolist(), row[1:10:2].tolist()
        assert target.item() == vals[keys.index(row[-2].item())]  # value of the queried key
        assert decoy.item() in vals and decoy.item() != target.item()


def test_kv_layout_reads_at_key():
    b = make_recall(10, 16, rng=np.random.default_rng(1), layout="kv")
    assert (b.tokens[:, -2] == MARKER).all() and (b.tokens[:, -1] >= 4).all() and (b.tokens[:, -1] < 21).all()
    with pytest.raises(ValueError, match="length must be"):
        make_recall(2, 12, rng=np.random.default_rng(0), layout="kv")


def test_closed_form_matches_seed_numbers():
    # the seed's published rates (book/appendix/drex.md §3-4)
    assert round(theory.seed_write_rate(96, 0.95, 0.4), 3) == 0.316
    assert round(theory.seed_write_rate(32, 0.95, 0.4), 3) == 0.968
    assert round(theory.seed_write_rate(32, theory.alpha("adaptive", 32), 0.4), 3) == 0.581
    assert round(theory.seed_write_rate(32, theory.alpha("adaptive", 32), 0.7, gate="or"), 3) == 0.581
    assert round(theory.seed_write_rate(96, theory.alpha("adaptive", 96), 0.7, gate="or"), 3) == 0.421
    assert theory.filler_writes(0.05, 0.4) == 18


@pytest.mark.parametrize("L", [16, 32, 96])
def test_measured_write_rate_equals_formula(L):
    a = theory.alpha("adaptive", L)
    torch.manual_seed(0)
    model = RecallProbe(ProbeConfig(memory="single", thresh=0.4, alpha=a))
    wr = evaluate(model, L, n_eval=32, seed=0).wr
    assert abs(wr - theory.seed_write_rate(L, a, 0.4)) < 1e-6


def test_corrected_task_is_solvable_and_seed_task_is_not():
    kv = linear_probe(ProbeConfig(layout="kv", memory="single", alpha=0.9, thresh=0.4), length=24, seed=0,
                      n_train=256, n_eval=128, head_steps=100)  # fmt: skip
    seed = linear_probe(ProbeConfig(layout="seed", memory="single", alpha=0.9, thresh=0.4), length=24, seed=0,
                        n_train=256, n_eval=128, head_steps=100)  # fmt: skip
    assert kv.acc > 0.9 and kv.acc_decoy < 0.05
    assert seed.acc < 0.35 and abs(seed.acc - seed.acc_decoy) < 0.1


def test_probe_is_deterministic_and_validates():
    a = linear_probe(ProbeConfig(layout="kv", d=16), length=20, seed=3, n_train=64, n_eval=32, head_steps=5)
    b = linear_probe(ProbeConfig(layout="kv", d=16), length=20, seed=3, n_train=64, n_eval=32, head_steps=5)
    assert a == b
    with pytest.raises(ValueError, match="combine='gate' needs"):
        ProbeConfig(memory="single", combine="gate")
    with pytest.raises(ValueError, match="schedule must be"):
        theory.alpha("cosine", 32)
