"""The long-context harness: an oracle that can see the answer scores 1, a memoryless one
scores chance, and scoring lines up with the answer tokens whatever the segment length."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from memnb.data.tokenizers import get_tokenizer
from memnb.eval.long_context import (
    TASK_NAMES,
    answer_mask,
    chance_levels,
    evaluate_long_context,
    make_task,
    score_batch,
)


class InductionCopy(nn.Module):
    """A causal, hand-built recaller: at each position it finds the latest earlier occurrence
    of the last ``m`` tokens in everything it has read and predicts the token that followed
    (an induction head with exact matching). Its state is the whole history, so it recalls a
    needle at any distance; with ``forget=True`` it drops the history at every call (a model
    with no memory beyond the current segment)."""

    def __init__(self, vocab: int, m: int = 12, forget: bool = False) -> None:
        super().__init__()
        self.vocab, self.m, self.forget = vocab, m, forget
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, idx: torch.Tensor, state=None):
        hist = [[] for _ in range(idx.size(0))] if state is None or self.forget else [list(h) for h in state]
        logits = torch.zeros(*idx.shape, self.vocab)
        for b in range(idx.size(0)):
            h = hist[b]
            for t, tok in enumerate(idx[b].tolist()):
                h.append(tok)
                key = h[-self.m :]
                for j in range(len(h) - self.m - 1, -1, -1):
                    if h[j : j + self.m] == key:
                        logits[b, t, h[j + self.m]] = 10.0
                        break
        return logits, hist


class Uniform(nn.Module):
    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.vocab = vocab
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, idx, state=None):
        return torch.zeros(*idx.shape, self.vocab), state


@pytest.fixture(scope="module")
def tok():
    return get_tokenizer("char")


def test_oracle_with_memory_recalls_the_passkey_at_every_length(tok):
    df = evaluate_long_context(InductionCopy(tok.vocab_size), "passkey", [200, 700], n=4, seed=0, segment_len=64)
    assert df["accuracy"].tolist() == [1.0, 1.0]
    assert (df["token_accuracy"] == 1.0).all()
    assert (df["key_gain"] > 5.0).all()  # the true key is far likelier than a foil key


def test_oracle_without_memory_beyond_the_segment_is_at_chance(tok):
    df = evaluate_long_context(
        InductionCopy(tok.vocab_size, forget=True), "passkey", [700], n=4, seed=0, segment_len=64
    )
    assert df["accuracy"].iloc[0] == 0.0
    assert df["key_gain"].iloc[0] == pytest.approx(0.0, abs=1e-9)


def test_uniform_model_scores_known_values(tok):
    df = evaluate_long_context(Uniform(tok.vocab_size), "passkey", [300], n=3, seed=1, segment_len=50)
    row = df.iloc[0]
    assert row["answer_nll"] == pytest.approx(math.log(tok.vocab_size), rel=1e-6)
    assert row["key_gain"] == pytest.approx(0.0, abs=1e-6)
    assert row["chance"] == pytest.approx(1 / 90000)
    assert row["nll_chance"] == pytest.approx(math.log(10))


def test_scoring_is_independent_of_the_segment_length(tok):
    model = InductionCopy(tok.vocab_size)
    a = evaluate_long_context(model, "babi1", [600], n=3, seed=2, segment_len=37)
    b = evaluate_long_context(model, "babi1", [600], n=3, seed=2, segment_len=600)
    pd_cols = ["accuracy", "token_accuracy", "answer_nll"]
    np.testing.assert_allclose(a[pd_cols].to_numpy(), b[pd_cols].to_numpy())


def test_answer_mask_marks_the_answer_only(tok):
    batch = make_task("passkey", 2, length=150, seed=0, tokenizer=tok)
    mask = answer_mask(batch)
    for i in range(2):
        got = tok.decode(batch.targets[i, mask[i]].tolist())
        assert got == batch.meta["passkey"][i]
    babi = make_task("babi2", 2, length=800, seed=0, tokenizer=tok)
    assert tok.decode(babi.targets[0, answer_mask(babi)[0]].tolist()) in {
        "kitchen",
        "garden",
        "office",
        "bathroom",
        "hallway",
        "bedroom",
    }


def test_foil_gain_matches_a_hand_computation(tok):
    """A model that puts logit 10 on the true next token everywhere: true-key NLL is
    log(1 + (V-1)e^-10) per digit, a foil digit that differs costs 10 nats more."""
    batch = make_task("passkey", 2, length=120, seed=3, tokenizer=tok)
    full = torch.cat([batch.inputs, batch.targets[:, -1:]], 1)
    nxt = torch.where(batch.targets == -100, torch.roll(full, -1, 1)[:, :-1], batch.targets)

    class Peek(nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(1))

        def forward(self, idx, pos=None):
            pos = pos or 0
            out = torch.zeros(*idx.shape, tok.vocab_size)
            out.scatter_(2, nxt[:, pos : pos + idx.size(1), None], 10.0)
            return out, pos + idx.size(1)

    res = score_batch(Peek(), batch, 32, foil=True)
    keys = batch.meta["passkey"]
    differ = np.array([sum(a != b for a, b in zip(keys[i], keys[i - 1], strict=True)) / 5 for i in range(2)])
    base = math.log1p((tok.vocab_size - 1) * math.exp(-10))
    np.testing.assert_allclose(res["nll"], base, rtol=1e-3)
    np.testing.assert_allclose(res["key_gain"], differ * 10.0, rtol=1e-4)
    assert res["exact"].tolist() == [1.0, 1.0]


def test_babi_chance_is_the_best_constant_guess():
    for task in TASK_NAMES[1:]:
        c = chance_levels(task)["chance"]
        assert 0.0 < c < 1.0


def test_bad_arguments_name_the_fix(tok):
    with pytest.raises(ValueError, match="unknown long-context task"):
        evaluate_long_context(Uniform(tok.vocab_size), "babi9", [300], n=2, seed=0, segment_len=8)
    with pytest.raises(ValueError, match="lengths"):
        evaluate_long_context(Uniform(tok.vocab_size), "passkey", [], n=2, seed=0, segment_len=8)
    with pytest.raises(ValueError, match="n >= 2"):
        evaluate_long_context(Uniform(tok.vocab_size), "passkey", [300], n=1, seed=0, segment_len=8)
