"""ReLSM ladder: parameter matching, vocabulary, curriculum, evaluation and verdict rules."""

from __future__ import annotations

import pytest
import torch

from memnb.data.tasks import TASKS
from memnb.data.tasks.algorithmic import VOCAB
from memnb.data.tasks.base import IGNORE
from memnb.relsm.curriculum import SplitCurriculum
from memnb.relsm.evaluate import chance_level, greedy_decode, greedy_exact_match, teacher_forced
from memnb.relsm.rules import RULES
from memnb.relsm.variants import VARIANTS, LadderConfig, build
from memnb.relsm.vocab import EOS_ID, PAD_ID, JointVocab
from memnb.verdicts import judge

pytestmark = pytest.mark.usefixtures("one_thread")


CHARS = ("<pad>", "<unk>", "<eos>", "a", "b")


def test_arms_are_parameter_matched_within_five_percent() -> None:
    cfg = LadderConfig(vocab_size=200, d_model=32)
    counts = {v: build(v, cfg).num_params() for v in VARIANTS}
    for v, n in counts.items():
        assert abs(n / counts["baseline"] - 1) < 0.05, (v, n, counts["baseline"])


def test_joint_vocab_shares_pad_and_eos_and_keeps_ids_distinct() -> None:
    v = JointVocab(CHARS, 0, 2)
    ids = torch.cat([v.tables[s] for s in ("alg", "niah", "char")])
    specials = (ids == PAD_ID).sum() + (ids == EOS_ID).sum()
    assert specials == 6 and len(set(ids.tolist())) == v.size == len(ids) - 4
    assert v.map("char", torch.tensor([IGNORE, 2, 4])).tolist() == [IGNORE, EOS_ID, v.size - 1]


def test_curriculum_is_a_pure_function_of_seed_and_step() -> None:
    text = torch.randint(0, 5, (500,))
    cur = SplitCurriculum(JointVocab(CHARS, 0, 2), ("parity", "copy", "niah"), text, seed=3, alg_steps=4, lang_steps=20)
    for step in (0, 10):
        a, b = cur.batch(step), cur.batch(step)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    in_mix = [cur.is_algorithmic(s) for s in range(4, 24)]
    assert sum(in_mix) == 3  # floor(20 * 0.15)
    assert all(cur.is_algorithmic(s) for s in range(4))


class CopyOracle(torch.nn.Module):
    """Copy task of length k: predicts the token k positions back, <eos> after the answer; with
    ``cheat`` it instead predicts the next input token, reading the future."""

    def __init__(self, k: int, cheat: bool) -> None:
        super().__init__()
        self.k, self.cheat = k, cheat

    def forward(self, idx, state=None):
        B, T = idx.shape
        pred = torch.full((B, T), VOCAB.eos)
        if self.cheat:
            pred[:, :-1] = idx[:, 1:]
        else:
            pred[:, self.k + 1 : 2 * self.k + 1] = idx[:, 1 : self.k + 1][
                :, : max(0, min(T, 2 * self.k + 1) - self.k - 1)
            ]
        return torch.nn.functional.one_hot(pred, VOCAB.size).float(), None


@pytest.mark.parametrize("cheat", [False, True])
def test_greedy_exact_match_is_teacher_forced_for_a_causal_model_and_catches_a_cheat(cheat: bool) -> None:
    b = TASKS["copy"](6, seed=0, length=5)
    oracle = CopyOracle(5, cheat)
    tf = teacher_forced(oracle, b.inputs, b.targets)[0]
    ar = greedy_exact_match(oracle, b.inputs, b.targets)
    assert tf.all()
    assert (not ar.any()) if cheat else ar.all()


@pytest.mark.parametrize("variant", ["baseline", "latent_seed", "act"])
def test_ragged_greedy_decoding_equals_decoding_each_row_alone(variant: str) -> None:
    torch.manual_seed(0)
    m = build(variant, LadderConfig(vocab_size=VOCAB.size, d_model=16, n_heads=2)).eval()
    b = TASKS["addition"](6, seed=1, digits=(1, 4))
    gen, want = greedy_decode(m, b.inputs, b.targets)
    for i in range(6):
        g, w = greedy_decode(m, b.inputs[i : i + 1], b.targets[i : i + 1])
        n = int((w != IGNORE).sum())
        assert torch.equal(gen[i, :n], g[0, :n]) and torch.equal(want[i, :n], w[0, :n])


def test_chance_levels() -> None:
    assert chance_level("parity", 12) == chance_level("dyck", 40) == 0.5
    assert chance_level("addition", 1) == pytest.approx(1 / 17)  # sums 2..18
    assert chance_level("copy", 3) == pytest.approx(1e-3)
    assert chance_level("niah", 64, n_distractors=2) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no chance level"):
        chance_level("chain", 5)


def test_verdict_rules() -> None:
    """The chapter's rules (``memnb.relsm.rules``) on synthetic per-seed metrics: the floor rule
    gates an accuracy comparison, a leak of exactly 0 is no leak, the cost bound is 2x."""
    learned, nothing = [0.3, 0.4, 0.35], [0.0, 0.01, 0.0]
    m = {"ood_acc_chance_corrected_ssm": learned, "ood_acc_chance_corrected_baseline": nothing}
    assert judge(RULES["relsm.ssm_ood"], m | {"ood_gain_ssm_vs_baseline": [0.2, 0.25, 0.22]})["verdict"] == "SUPPORTED"
    assert judge(RULES["relsm.ssm_ood"], m | {"ood_gain_ssm_vs_baseline": [-0.2, -0.25, -0.2]})["verdict"] == "REFUTED"
    floor = m | {"ood_acc_chance_corrected_ssm": nothing, "ood_gain_ssm_vs_baseline": [0.2, 0.25, 0.22]}
    assert judge(RULES["relsm.ssm_ood"], floor)["verdict"] == "INCONCLUSIVE"
    assert judge(RULES["relsm.latent_is_causal"], {"leak_latent_seed": [0.0, 0.0, 0.0]})["verdict"] == "SUPPORTED"
    assert judge(RULES["relsm.latent_is_causal"], {"leak_latent_seed": [0.01, 0.02, 0.015]})["verdict"] == "REFUTED"
    arms = ("shared_loop", "latent", "act")
    ppl = {f"ppl_ratio_{a}": [1.0, 1.01, 0.99] for a in arms}
    cheap = {f"flops_ratio_{a}": [1.2, 1.2, 1.2] for a in arms}
    assert judge(RULES["relsm.cost"], ppl | cheap)["verdict"] == "SUPPORTED"
    assert judge(RULES["relsm.cost"], ppl | cheap | {"flops_ratio_act": [2.6, 2.6, 2.6]})["verdict"] == "REFUTED"
