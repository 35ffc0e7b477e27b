"""Chapter 40's loops and tables (memnb.ams.study / report) end to end on a tiny random GPT-2:
every frame has the columns the chapter reads, and the tables and figures build from them."""

import matplotlib
import pandas as pd
import pytest
import torch
from test_ams_model import CharTok  # bytes as ids: enough for the AMS code paths
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.ams import report, study
from memnb.ams import sessions as S
from memnb.ams.presets import AmsV4

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def run():
    torch.manual_seed(0)
    lm = GPT2LMHeadModel(GPT2Config(vocab_size=256, n_positions=256, n_embd=32, n_layer=1, n_head=2)).eval()
    lm.requires_grad_(False)
    tok = CharTok()
    p = AmsV4.resolve("ci", {"train_steps": 1, "alt_steps": 1, "n_sessions": 1, "max_new": 2, "e3_n": [1, 2]})
    probe = S.make_session(10_000, n_identity=p.n_identity, n_distractors=p.n_distractors)
    prompt = S.prompt_for(None, probe.queries[0][0], style="question")
    models, logs, init_norm = study.train_variants(lm, tok, [0], p, probe, prompt)
    return lm, tok, p, probe, prompt, models, logs, init_norm


def test_sessions_and_variants_are_fixed_by_their_seeds():
    p = AmsV4.resolve("ci")
    a, b = study.sessions(1_000, 2, p), study.sessions(1_000, 2, p)
    assert [s.facts for s in a] == [s.facts for s in b] and a[0].facts != a[1].facts
    assert a[1].facts == S.make_session(1_001, n_identity=p.n_identity, n_distractors=p.n_distractors).facts
    assert list(study.variants(p)) == ["trained", "e1_ln", "e1_inv_sqrt_d", "e2_a_raw", "cloze", "qa", "e2_b_content"]


def test_geometry_ablation_is_bit_identical(run):
    lm, tok, p, probe, prompt, *_ = run
    e6 = study.geometry_ablation(lm, tok, probe, prompt, max_new=2)
    assert e6["identical"] and e6["params_main"] > 0 and e6["params_geometry"] > 0


def test_training_and_every_experiment_give_the_chapters_columns(run):
    lm, tok, p, probe, prompt, models, logs, init_norm = run
    assert set(models[0]) == {"fresh", *study.variants(p)}
    assert set(init_norm) == {(0, "trained"), (0, "e1_ln"), (0, "e1_inv_sqrt_d"), (0, "e1_emb")}
    assert set(report.training_table(logs).columns) == {"obj first-4", "obj last-4", "baa last-4"}
    H = study.harness(lm, tok, models, [0], p)
    assert list(H["mode"].unique()) == study.MODES and len(H) == len(study.MODES) * p.n_identity
    table = report.mode_table(H, study.MODES)
    assert list(table.index) == study.MODES and "word Wilson 95% (pooled)" in table
    R = study.replica(lm, tok, models[0], max_new=2)
    assert report.replica_table(R, study.MODES).shape == (len(study.MODES), 6)
    E1 = study.e1_prefix_norms(models, init_norm, [0], p)
    assert set(E1.variant) == {"e1_ln", "e1_inv_sqrt_d", "e1_learnable"} and "norm_ratio" in E1
    E2 = study.e2_topic(lm, tok, models, [0], p)
    assert set(E2.set) == {"random", "replica"} and {"offdiag_mean", "top1", "bm25", "cos"} <= set(E2)
    E3 = study.e3_dilution(models, [0], p)
    assert set(E3.N) == {1, 2} and {"gold_mass_topic", "choice", "filter"} <= set(E3)
    E4 = study.e4_invariance(lm, tok, models, [0], p)
    assert set(report.objective_table(E4, H, logs).index) == {"fresh", "trained", "cloze", "qa"}
    E5, syn = study.e5_kakeya(models, [0], p)
    assert list(report.kakeya_table(E5).columns) == report.KAKEYA_COLUMNS and list(syn.seed) == [0]
    E7 = study.e7_content_bias(lm, tok, [0], p)
    assert set(E7.beta) == set(p.e7_betas)
    report.dilution_figure(E3)
    report.recall_figure(H, study.MODES)


def test_first_last_4():
    d = pd.DataFrame({"step": range(10), "obj": [float(i) for i in range(10)], "baa": [1.0] * 10})
    row = report.first_last_4(d)
    assert row["obj first-4"] == 1.5 and row["obj last-4"] == 7.5 and row["baa last-4"] == 1.0
