"""Pilot of chapter 10's and 11's trained arms: seconds per training step of each, on a seed the
chapters do not use, to size the ``cpu`` profile's budget (arms × seeds × steps × s/step).

    python -m memnb.drex.pilot --seed 100 --steps 100
    python -m memnb.drex.pilot --chapter 11 --seed 100 --steps 100 --lm-steps 40
    python -m memnb.drex.pilot --chapter 12 --seed 100

Each arm is exp_47_1's model trained with the seed's protocol (``memnb.drex.experiment.train_probe``,
one torch thread) for ``--steps`` steps and scored on ``--n-eval`` sequences; the line printed per
arm gives its wall and CPU seconds per step (training and evaluation together, divided by the
steps) and its accuracy, which at a pilot's few steps means nothing.
"""

from __future__ import annotations

import argparse
import time

from memnb.drex import theory
from memnb.drex.experiment import train_probe
from memnb.drex.probe import ProbeConfig

THETA = 0.40  # exp_47_1's gate threshold
THETAS_48 = (0.50, 0.55, 0.60, 0.65, 0.70, 0.75)  # exp_48_1's six thresholds


def arms(lengths: list[int], seed_lengths: list[int]) -> list[tuple[str, ProbeConfig, int]]:
    """(label, config, L) of every trained arm chapter 10 runs: the seed layout (fixed, adaptive,
    memory removed) and the corrected layout (fixed, adaptive, constant η, memory removed)."""
    seed = {"arch": "exp47", "layout": "seed", "memory": "single", "thresh": THETA}
    kv = {**seed, "layout": "kv"}
    out = []
    for layout, base, Ls, schedules in (
        ("seed", seed, seed_lengths, ("fixed", "adaptive")),
        ("kv", kv, lengths, ("fixed", "adaptive", "const_eta")),
    ):
        for L in Ls:
            out += [(f"{layout} {s} L={L}", ProbeConfig(**base, alpha=theory.alpha(s, L)), L) for s in schedules]
            out.append((f"{layout} memory removed L={L}", ProbeConfig(**{**base, "memory": "none"}), L))
    return out


def arms_11(theta_length: int, gate_lengths: list[int]) -> list[tuple[str, ProbeConfig, int]]:
    """(label, config, L) of chapter 11's trained recall arms: the seed's split model on the
    corrected layout at exp_48_1's six θ (L = ``theta_length``), and at θ = 0.70 with the
    concatenated read, the learned combination gate and the memory removed (``gate_lengths``)."""
    kv = {"arch": "exp47", "layout": "kv", "memory": "split"}
    out = [
        (f"theta {th:.2f} L={theta_length}", ProbeConfig(**kv, thresh=th, alpha=theory.alpha("adaptive", theta_length)),
         theta_length)
        for th in THETAS_48
    ]  # fmt: skip
    for L in gate_lengths:
        a = theory.alpha("adaptive", L)
        out += [
            (f"concat L={L}", ProbeConfig(**kv, thresh=0.70, alpha=a), L),
            (f"combination gate L={L}", ProbeConfig(**kv, thresh=0.70, alpha=a, combine="gate"), L),
            (f"memory removed L={L}", ProbeConfig(**{**kv, "memory": "none"}, thresh=0.70, alpha=a), L),
        ]
    return out


def _pilot_lm(steps: int, seed: int, val_tokens: int) -> None:
    """Chapter 11's language-model arms (chapter 12's Exp B, null gate on and off) at the sizes
    of ``GateSweep``'s cpu profile."""
    from dataclasses import replace

    from memnb.data import tokenizers
    from memnb.drex.model import DrexConfig, fit_drex
    from memnb.drex.presets import GateSweep

    p = GateSweep.resolve("cpu", {})
    tok = tokenizers.get_tokenizer("char")
    train_ids, val_ids = tokenizers.encode_corpus("train", tok), tokenizers.encode_corpus("validation", tok)
    cfg = DrexConfig(tok.vocab_size, d_model=p.lm_d_model, n_layers=p.lm_layers, segment_len=p.lm_segment_len, l4=True)
    for label, c in (("LM null gate on", cfg), ("LM null gate off", replace(cfg, l4_null_gate=False))):
        t0, c0 = time.perf_counter(), time.process_time()
        _, hist, train_s = fit_drex(
            c, train_ids, val_ids, steps=steps, batch_size=p.lm_batch_size, n_segments=p.lm_n_segments, seed=seed,
            val_tokens=val_tokens,
        )  # fmt: skip
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"{label:<28} {train_s / steps:.4f} s/step train  {wall:.1f} s wall ({wall - train_s:.1f} s eval of "
            f"{val_tokens} tokens)  {cpu:.1f} CPU s  val loss {hist[-1]['val_loss']:.3f}"
        )


def _pilot_12(seed: int, steps: int | None, mix_steps: int | None) -> None:
    """Chapter 12's arms at ``DrexModel``'s cpu preset (``steps`` / ``mix_steps`` override its
    step counts): Exp A and Exp B on the passkey mixture, Exp B and Exp B-last-layer on plain
    text, two at a time (the chapter's two workers); wall s/step of training and every score."""
    from memnb.data import tokenizers
    from memnb.drex.model import DrexConfig, exp_configs
    from memnb.drex.presets import DrexModel
    from memnb.drex.sweep import chapter12_kw, mixture_grid

    p = DrexModel.resolve("cpu", {})
    cfgs = exp_configs(DrexConfig(tokenizers.get_tokenizer("char").vocab_size, d_model=p.d_model,
                                  n_layers=p.n_layers, segment_len=p.segment_len))  # fmt: skip
    kw_mix, kw_lm = chapter12_kw(p)
    kw_mix["steps"], kw_lm["steps"] = mix_steps or p.mix_steps, steps or p.steps
    arms = [({"arm": f"{a}, mixture"}, cfgs[a], kw_mix, [seed]) for a in ("Exp A", "Exp B")]
    arms += [({"arm": f"{a}, text"}, cfgs[a], kw_lm, [seed]) for a in ("Exp B", "Exp B, last layer")]
    df = mixture_grid(arms, workers=p.workers)
    for _, r in df.iterrows():
        steps_ = kw_mix["steps"] if r["arm"].endswith("mixture") else kw_lm["steps"]
        scores = {k: round(v, 3) for k, v in r.items() if k.startswith(("key_gain", "digit_acc", "val_loss"))}
        print(f"{r['arm']:<28} {r['train_s'] / steps_:.4f} s/step ({steps_} steps, {r['train_s']:.1f} s) {scores}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--n-eval", type=int, default=1920)
    ap.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 96])
    ap.add_argument("--seed-lengths", type=int, nargs="+", default=[32, 96])
    ap.add_argument("--chapter", type=int, default=10, choices=(10, 11, 12))
    ap.add_argument("--theta-length", type=int, default=64, help="chapter 11: L of the θ sweep")
    ap.add_argument("--gate-lengths", type=int, nargs="+", default=[48, 64], help="chapter 11: L of the gate arms")
    ap.add_argument("--lm-steps", type=int, default=40, help="chapter 11: language-model steps (0: skip)")
    ap.add_argument("--lm-val-tokens", type=int, default=65536)
    ap.add_argument("--lm12-steps", type=int, default=None, help="chapter 12: plain-text steps (default: preset)")
    ap.add_argument("--mix-steps", type=int, default=None, help="chapter 12: mixture steps (default: preset)")
    a = ap.parse_args(argv)
    if a.chapter == 12:
        _pilot_12(a.seed, a.lm12_steps, a.mix_steps)
        return
    if a.chapter == 11 and a.lm_steps:
        _pilot_lm(a.lm_steps, a.seed, a.lm_val_tokens)
    todo = arms(a.lengths, a.seed_lengths) if a.chapter == 10 else arms_11(a.theta_length, a.gate_lengths)
    seen = set()
    for label, cfg, L in todo:
        if (cfg, L) in seen:  # e.g. fixed = adaptive at L = 96: one run
            continue
        seen.add((cfg, L))
        t0, c0 = time.perf_counter(), time.process_time()
        res = train_probe(cfg, length=L, steps=a.steps, seed=a.seed, n_eval=a.n_eval)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label:<28} {wall / a.steps:.4f} s/step wall  {cpu / a.steps:.4f} CPU s/step  acc {res.acc:.3f}")


if __name__ == "__main__":
    main()
