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
from memnb.relsm.vocab import EOS_ID, PAD_ID, SEP_ID, JointVocab
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
    assert v.map("alg", torch.tensor([VOCAB.encode(["<sep>"])[0]])).item() == SEP_ID


def test_curriculum_is_a_pure_function_of_seed_and_step() -> None:
    text = torch.randint(0, 5, (500,))
    v = JointVocab(CHARS, 0, 2)
    cur = SplitCurriculum(v, ("parity", "copy", "niah"), text, seed=3, alg_steps=4, lang_steps=20)
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


@pytest.mark.parametrize("variant", ["baseline", "latent_seed", "latent_prompt", "act"])
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
    """The chapter's rules (``memnb.relsm.rules``) on synthetic per-seed metrics: floor and ceiling
    controls give UNTESTABLE (never a zero-variance REFUTED), one leaking seed refutes causality,
    and cost is judged on the winning variants only."""
    base, better = [0.3, 0.32, 0.31], [0.4, 0.45, 0.43]
    ood = {"ood_acc_ssm": better, "ood_acc_baseline": base, "ood_best_ssm_vs_baseline": better}
    ood |= {"ood_room_baseline": [0.7, 0.68, 0.69]}
    assert judge(RULES["relsm.ssm_ood"], ood)["verdict"] == "SUPPORTED"
    assert judge(RULES["relsm.ssm_ood"], ood | {"ood_acc_ssm": base})["verdict"] == "REFUTED"
    zeros = [0.0, 0.0, 0.0]
    floor = {"ood_acc_ssm": zeros, "ood_acc_baseline": zeros, "ood_best_ssm_vs_baseline": zeros}
    assert judge(RULES["relsm.ssm_ood"], floor | {"ood_room_baseline": [1.0] * 3})["verdict"] == "UNTESTABLE"
    leak = {"leak_act_seed": [0.01, 0.02, 0.01], "leak_planted_leak": [0.01] * 3}
    assert judge(RULES["relsm.latent_is_causal"], leak | {"leak_latent_seed": zeros})["verdict"] == "REFUTED"
    clean = leak | {"leak_latent_seed": zeros, "leak_act_seed": [0.0, 0.0, 1e-3]}
    assert judge(RULES["relsm.latent_is_causal"], clean)["verdict"] == "REFUTED"  # one seed suffices
    assert judge(RULES["relsm.latent_is_causal"], clean | {"leak_act_seed": zeros})["verdict"] == "SUPPORTED"
    assert judge(RULES["relsm.latent_is_causal"], {**clean, "leak_planted_leak": zeros})["verdict"] == "UNTESTABLE"
    arms = ("shared_loop", "latent", "latent_prompt", "act")
    cost = {f"ppl_ratio_{a}": [1.0, 1.01, 0.99] for a in arms} | {f"flops_ratio_{a}": [1.2] * 3 for a in arms}
    cost |= {f"iid_acc_{a}": better for a in arms} | {"iid_acc_baseline": base, "flops_ratio_latent": [2.6] * 3}
    assert judge(RULES["relsm.cost"], cost)["verdict"] == "REFUTED"  # the per-position latent wins and costs 2.6x
    assert judge(RULES["relsm.cost"], cost | {"iid_acc_latent": base})["verdict"] == "SUPPORTED"  # it does not win
    assert judge(RULES["relsm.cost"], cost | {f"iid_acc_{a}": base for a in arms})["verdict"] == "UNTESTABLE"
    still = {"act_iterations_hard_minus_easy": zeros, "act_iterations_spread": zeros}
    assert judge(RULES["relsm.act_adapts"], still)["verdict"] == "UNTESTABLE"  # no adaptation at all
    moves = {"act_iterations_hard_minus_easy": [0.5, 0.6, 0.7], "act_iterations_spread": [0.5, 0.6, 0.7]}
    assert judge(RULES["relsm.act_adapts"], moves)["verdict"] == "SUPPORTED"


def test_short_conv_reaches_every_arm_and_keeps_them_causal() -> None:
    cfg = LadderConfig(vocab_size=50, d_model=16, n_heads=2, short_conv=2)
    x = torch.randint(3, 50, (2, 10))
    for v in ("baseline", "shared_loop", "latent", "ssm"):
        torch.manual_seed(0)
        m = build(v, cfg).eval()
        assert all(b.conv is not None for b in m.blocks), v
        y = x.clone()
        y[:, 6] = (y[:, 6] + 1 - 3) % 47 + 3
        with torch.no_grad():
            assert torch.equal(m(x)[0][:, :6], m(y)[0][:, :6]), v


def test_pilot_runs_and_reports_every_condition() -> None:
    from memnb.relsm.pilot import pilot

    out = pilot("baseline", seed=100, steps=2, lr=3e-3, schedule="constant", weight_decay=0.0, short_conv=2,
                d_model=16, n_heads=2, batch_size=4, eval_n=2)  # fmt: skip
    assert set(out["exact_match"]) == {
        f"{t}:{s}" for t in ("copy", "reverse") for s in ("iid", "ood:16", "ood:20", "ood:24")
    }
    assert out["schedule"] == "constant" and out["short_conv"] == 2 and out["cpu_s_per_step"] > 0
