"""The baseline decoder and the training loop."""

import math

import pytest
import torch

from memnb.models.decoder import DecoderConfig, attention_decoder, lm_loss
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, lr_at, train

V = 16


def tiny(seed: int = 0):
    seed_everything(seed)
    return attention_decoder(DecoderConfig(vocab_size=V, d_model=32, n_layers=2, n_heads=2))


def repeat_batch(step: int):
    """Sequences ``a b c ... a b c ...``: the second half is predictable from the first."""
    g = torch.Generator().manual_seed(step)
    half = torch.randint(0, V, (8, 8), generator=g)
    seq = torch.cat([half, half], dim=1)
    y = seq[:, 1:].clone()
    y[:, :7] = -100  # score only the copied half
    return seq[:, :-1], y


def test_lr_schedule_warmup_then_cosine_to_floor():
    cfg = TrainConfig(steps=100, lr=1e-3, warmup=10, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(1e-4)
    assert lr_at(9, cfg) == pytest.approx(1e-3)
    assert lr_at(100, cfg) == pytest.approx(1e-4)
    mid = 10 + 45
    assert lr_at(mid, cfg) == pytest.approx(1e-4 + 0.5 * 0.9e-3)
    after = [lr_at(s, cfg) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(after, after[1:], strict=False))


def test_decoder_is_causal_and_segment_wise_equals_one_pass():
    m = tiny().double().eval()
    x = torch.randint(0, V, (2, 24))
    full, _ = m(x)
    edited = x.clone()
    edited[:, 12] = (edited[:, 12] + 1) % V
    assert torch.equal(m(edited)[0][:, :12], full[:, :12])
    assert not torch.allclose(m(edited)[0][:, 12:], full[:, 12:])
    a, state = m(x[:, :10])
    b, _ = m(x[:, 10:], state)
    assert torch.allclose(torch.cat([a, b], 1), full, atol=1e-10)


def test_training_learns_the_copy_task():
    m = tiny()
    x, y = repeat_batch(10_000)
    before = lm_loss(m(x)[0], y).item()
    hist = train(m, repeat_batch, TrainConfig(steps=300, lr=3e-3, warmup=10), desc="test")
    after = lm_loss(m(x)[0], y).item()
    assert before == pytest.approx(math.log(V), rel=0.1)
    assert after < 0.5 * before, (before, after)
    assert len(hist) == 300 and hist[-1]["step"] == 300


def test_resume_from_checkpoint_is_exact(tmp_path):
    cfg = TrainConfig(steps=10, lr=3e-3, warmup=2, checkpoint_every=5)
    ref = tiny(0)
    train(ref, repeat_batch, cfg)

    def crashing(step):
        if step == 7:
            raise KeyboardInterrupt
        return repeat_batch(step)

    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train(tiny(0), crashing, cfg, checkpoint=ckpt)
    resumed = tiny(123)  # other init: everything must come from the checkpoint
    hist = train(resumed, repeat_batch, cfg, checkpoint=ckpt)
    assert len(hist) == 10
    for p, q in zip(ref.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="another TrainConfig"):
        train(tiny(0), repeat_batch, TrainConfig(steps=20, lr=3e-3), checkpoint=ckpt)


def test_tbptt_counts_segments_as_steps_and_evaluates_at_the_end():
    m = tiny()
    calls = []
    hist = train(
        m,
        repeat_batch,
        TrainConfig(steps=6, lr=1e-3, warmup=1, segment_len=5, eval_every=4),
        evaluate=lambda model: calls.append(1) or {"val": 1.0},
    )
    assert [h["step"] for h in hist] == [1, 2, 3, 4, 5, 6]
    assert "val" in hist[3] and "val" in hist[5] and len(calls) == 2


@pytest.mark.parametrize(
    ("kw", "msg"),
    [({"steps": 0}, "steps"), ({"steps": 5, "lr": 2.0}, "lr"), ({"steps": 5, "segment_len": 0}, "segment_len")],
)
def test_config_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**kw)
    with pytest.raises(ValueError, match="divisible"):
        DecoderConfig(vocab_size=10, d_model=30, n_heads=4)


def test_stream_nll_scores_every_token_once_and_carry_state_matches_one_pass():
    from memnb.eval.nll import stream_nll

    m = tiny().double()
    tokens = torch.randint(0, V, (50,))
    nll_full, n = stream_nll(m, tokens, window=49)
    assert n == 49
    ref = torch.nn.functional.cross_entropy(m(tokens[None, :-1])[0][0], tokens[1:], reduction="sum").item()
    assert nll_full == pytest.approx(ref, rel=1e-10)
    nll_carry, _ = stream_nll(m, tokens, window=10, carry_state=True)  # KV cache carried: same as one pass
    assert nll_carry == pytest.approx(ref, rel=1e-10)
    nll_windows, n2 = stream_nll(m, tokens, window=10, batch_size=3)  # fresh state per window: more loss
    assert n2 == 49 and nll_windows != pytest.approx(ref, rel=1e-6)


def test_task_logits_chunks_match_one_call_and_accuracy_groups_by_meta():
    from memnb.eval.nll import accuracy_by, perplexity, stream_nll, task_logits

    m = tiny().double()
    x = torch.randint(0, V, (5, 12))
    assert torch.allclose(task_logits(m, x, batch_size=2), m(x)[0], atol=1e-12)
    correct = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    table = accuracy_by(correct, {"depth": [0.1, 0.1, 0.5, 0.5, 0.5]}, "depth")
    assert table["accuracy"].tolist() == [0.5, pytest.approx(2 / 3)] and table["n"].tolist() == [2, 3]
    tokens = torch.randint(0, V, (40,))
    nll, n = stream_nll(m, tokens, window=8)
    assert perplexity(m, tokens, window=8) == pytest.approx(math.exp(nll / n))
