"""The baseline decoder and the training loop: schedules, optimiser groups, hooks, callback, resume."""

import math

import pytest
import torch

from memnb.models.decoder import DecoderConfig, attention_decoder, lm_loss
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, lm_objective, lr_at, optimizer, train

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


ADAM_CONSTANT = {"optimizer": "adam", "schedule": "constant", "warmup": 0, "betas": (0.9, 0.999)}


def test_constant_and_linear_schedules():
    cfg = TrainConfig(steps=50, lr=1e-3, **ADAM_CONSTANT)
    assert {lr_at(s, cfg) for s in range(50)} == {1e-3}
    lin = TrainConfig(steps=50, lr=1e-3, schedule="linear", warmup=20, min_lr_ratio=0.1)
    for s in range(50):  # the AMS reader's hand-written formula, bit for bit
        assert lr_at(s, lin) == 1e-3 * min(1.0, (s + 1) / 20) * (0.1 + 0.9 * (1 - s / 50))


def test_optimizer_groups_follow_the_config():
    m = tiny()
    default = optimizer(m, TrainConfig(steps=1))
    assert isinstance(default, torch.optim.AdamW) and [g["weight_decay"] for g in default.param_groups] == [0.1, 0.0]
    assert all(p.dim() >= 2 for p in default.param_groups[0]["params"])
    assert all(p.dim() < 2 for p in default.param_groups[1]["params"])
    one = optimizer(m, TrainConfig(steps=1, weight_decay=0.01, decay_all=True))
    assert len(one.param_groups) == 1 and one.param_groups[0]["params"] == list(m.parameters())
    adam = optimizer(m, TrainConfig(steps=1, weight_decay=0.0, **ADAM_CONSTANT))
    assert type(adam) is torch.optim.Adam and adam.defaults["betas"] == (0.9, 0.999)


def test_adam_constant_config_equals_the_hand_written_loop():
    """Drex's seed protocol as a config: the same parameters as a plain Adam loop, bit for bit."""
    ref, m = tiny(0), tiny(0)
    opt = torch.optim.Adam(ref.parameters(), lr=1e-3)
    for step in range(5):
        x, y = repeat_batch(step)
        loss = lm_loss(ref(x)[0], y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    cfg = TrainConfig(steps=5, lr=1e-3, weight_decay=0.0, grad_clip=None, **ADAM_CONSTANT)
    hist = train(m, repeat_batch, cfg)
    assert [h["lr"] for h in hist] == [1e-3] * 5
    for p, q in zip(ref.parameters(), m.parameters(), strict=True):
        assert torch.equal(p, q)


def test_loss_hook_info_and_per_step_callback():
    """A classifier on arbitrary batches: the hook's info joins the rows, on_step sees each row."""
    torch.manual_seed(0)
    head = torch.nn.Linear(4, 3)
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    seen = []

    def loss_fn(model, batch, state):
        logits = model(batch["x"])
        acc = (logits.argmax(-1) == batch["y"]).float().mean()
        return torch.nn.functional.cross_entropy(logits, batch["y"]), state, {"acc": acc}

    hist = train(
        head,
        lambda step: {"x": x, "y": y},
        TrainConfig(steps=20, lr=0.05, **ADAM_CONSTANT),
        loss_fn=loss_fn,
        on_step=lambda row, model: seen.append((row["step"], model is head)),
    )
    assert seen == [(s, True) for s in range(1, 21)]
    assert all(set(h) == {"step", "lr", "train_loss", "acc"} and isinstance(h["acc"], float) for h in hist)
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]


def test_a_none_loss_only_advances_the_state():
    """Segments with no scored target take no step: 2 of each batch's 3 segments are steps."""
    m = tiny()
    pieces = []  # repeat_batch: [8, 15], targets from column 7 on; segments of 5

    def counting(model, piece, state):
        pieces.append(int((piece[1] != -100).sum()))
        return lm_objective()(model, piece, state)

    hist = train(m, repeat_batch, TrainConfig(steps=4, lr=1e-3, warmup=1, segment_len=5), loss_fn=counting)
    assert len(hist) == 4 and pieces == [0, 24, 40, 0, 24, 40]


def test_resume_with_a_loss_hook_is_exact(tmp_path):
    cfg = TrainConfig(steps=6, lr=1e-3, checkpoint_every=3, weight_decay=0.0, grad_clip=None, **ADAM_CONSTANT)
    hook = lm_objective(lambda logits, y: lm_loss(logits, y) * 2)
    ref = tiny(0)
    ref_hist = train(ref, repeat_batch, cfg, loss_fn=hook)

    def crashing(step):
        if step == 4:
            raise KeyboardInterrupt
        return repeat_batch(step)

    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train(tiny(0), crashing, cfg, loss_fn=hook, checkpoint=ckpt)
    resumed = tiny(7)
    hist = train(resumed, repeat_batch, cfg, loss_fn=hook, checkpoint=ckpt)
    assert hist == ref_hist
    for p, q in zip(ref.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": 5, "lr": 2.0}, "lr"),
        ({"steps": 5, "segment_len": 0}, "segment_len"),
        ({"steps": 5, "optimizer": "sgd"}, "optimizer"),
        ({"steps": 5, "schedule": "step"}, "schedule"),
        ({"steps": 5, "grad_clip": 0.0}, "grad_clip"),
    ],
)
def test_config_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**kw)


def test_decoder_config_validation():
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
