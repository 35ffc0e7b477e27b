"""Chapter 12's passkey mixture and FLOP count: batches are a pure function of (seed, step), rows
of k segments, passkey rows weighted at the answer; the weighted objective; the truncated-BPTT
loop cuts (inputs, targets, weights) alike; FLOPs of L4 in the last layer vs every layer."""

import math
from dataclasses import replace

import pytest
import torch

from memnb.data import tokenizers
from memnb.drex.flops import flops_per_token, l4_flops_per_token
from memnb.drex.mixture import passkey_mixture, weighted_lm_objective
from memnb.drex.model import DrexConfig, DrexModel, exp_configs
from memnb.train import TrainConfig, train

TOK = tokenizers.get_tokenizer("char")
TRAIN = tokenizers.encode_corpus("train", TOK)


def _mix(**kw):
    args = {"segment_len": 128, "segments": (1, 3), "batch_size": 6, "passkey_frac": 0.5, "seed": 7,
            "answer_weight": 9.0} | kw  # fmt: skip
    return passkey_mixture(TRAIN, TOK, **args)


def test_batches_are_pure_functions_of_seed_and_step():
    a, b = _mix()(3), _mix()(3)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(_mix(seed=8)(3)[0], a[0]) or not torch.equal(_mix()(4)[0], a[0])


def test_rows_are_whole_segments_and_passkey_answers_are_weighted():
    lengths = set()
    for step in range(12):
        x, y, w = _mix()(step)
        lengths.add(x.shape[1])
        assert x.shape == y.shape == w.shape and x.shape[1] % 128 == 0
        assert torch.equal(x[:, 1:], y[:, :-1])  # targets are the inputs shifted by one
        for row in range(x.shape[0]):
            text = TOK.decode(x[row].tolist())
            if (w[row] != 1).any():
                assert "The pass key is " in text
                assert (w[row, -5:] == 9.0).all() and (w[row, :-5] == 1.0).all()
                key = TOK.decode(y[row, -5:].tolist())
                assert key.isdigit() and f"The pass key is {key}." in text
    assert lengths <= {128, 256, 384} and len(lengths) > 1


def test_plain_text_mixture_has_unit_weights_and_bad_settings_raise():
    x, y, w = _mix(passkey_frac=0.0, segments=(2, 2))(0)
    assert x.shape == (6, 256) and (w == 1).all()
    with pytest.raises(ValueError, match="segments"):
        _mix(segments=(3, 2))
    with pytest.raises(ValueError, match="answer_weight"):
        _mix(answer_weight=0.0)


def test_weighted_objective_and_the_loop_cut_three_tensors_into_segments():
    cfg = DrexConfig(TOK.vocab_size, d_model=16, n_layers=1, n_heads=2, segment_len=128)
    torch.manual_seed(0)
    model = DrexModel(cfg)
    x, y, w = _mix(segments=(2, 2))(0)
    loss, _, _ = weighted_lm_objective()(model, (x[:, :128], y[:, :128], torch.ones(6, 128)), None)
    plain = torch.nn.functional.cross_entropy(model(x[:, :128])[0].transpose(1, 2), y[:, :128])
    assert loss.item() == pytest.approx(plain.item(), rel=1e-5)  # unit weights: the plain mean
    hist = train(model, _mix(segments=(2, 2)), TrainConfig(steps=4, lr=1e-3, segment_len=128),
                 loss_fn=weighted_lm_objective(), progress=False)  # fmt: skip
    assert len(hist) == 4 and all(math.isfinite(r["train_loss"]) for r in hist)


def test_flops_last_layer_only_is_cheaper_by_one_l4():
    base = DrexConfig(TOK.vocab_size, d_model=64, n_layers=2, segment_len=128)
    cfgs = exp_configs(base)
    b, last = cfgs["Exp B"], cfgs["Exp B, last layer"]
    assert flops_per_token(b) - flops_per_token(last) == pytest.approx(l4_flops_per_token(b))
    assert flops_per_token(replace(b, l4=False)) < flops_per_token(last) < flops_per_token(b)
    d, S = 64, 128
    assert l4_flops_per_token(b) == pytest.approx(2 * d * d + 2 * d * d * (S - 1) / S + (3 * d * d + 2 * d) / S)
    assert l4_flops_per_token(replace(b, l4_readout="per_position")) == 7 * d * d + 2 * d
    assert DrexModel(cfgs["Exp A"]).num_params() == pytest.approx(DrexModel(b).num_params(), rel=0.01)
    with pytest.raises(ValueError, match="L3"):
        flops_per_token(replace(b, l3=True))


def test_mixture_grid_rows_in_arm_order_and_a_tiny_real_run(monkeypatch):
    from memnb.drex import sweep

    def fake(cfg, seed, kw):
        return {"val_loss": 10 * kw["steps"] + seed, "train_s": 1.0}

    monkeypatch.setattr(sweep, "_fit_mixture", fake)
    cfg = DrexConfig(TOK.vocab_size, d_model=16, n_layers=1, n_heads=2, segment_len=128)
    jobs = [({"arm": "short"}, cfg, {"steps": 1}, [0, 1]), ({"arm": "long"}, replace(cfg, l4=True), {"steps": 3}, [5])]
    df = sweep.mixture_grid(jobs)
    assert df.arm.tolist() == ["short", "short", "long"] and df.val_loss.tolist() == [10, 11, 35]
    monkeypatch.undo()
    kw = {"steps": 2, "batch_size": 2, "segments": (1, 2), "passkey_frac": 1.0, "answer_weight": 5.0,
          "val_tokens": 512, "val_window": 256, "n_eval": 2, "eval_seed_offset": 5000,
          "passkey": {"in_segment": (128, (0.0, 1.0)), "beyond_256": (256, (0.0, 0.5))}}  # fmt: skip
    res = sweep._fit_mixture(cfg, 0, kw)
    assert {"val_loss", "val_loss_half", "key_gain_in_segment", "exact_beyond_256", "digit_acc_beyond_256"} <= set(res)
    assert res == sweep._fit_mixture(cfg, 0, kw) | {k: res[k] for k in ("train_s", "train_tokens_per_s")}
