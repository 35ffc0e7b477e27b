"""Run the ladder: every trained arm x seed trained through the curriculum, audited and evaluated.

For each (variant, seed): ``seed_everything(seed)``, build the arm (``variants.build``), train
it on the seed's curriculum (``curriculum.train_arm``; the same batches for every arm of a
seed), then on a fixed probe batch measure the future leak (``audit.future_leak``), the
gradient reaching the halting head, and the FLOPs of one training step, and run the shared
evaluation suite (``evaluate.evaluate_model``). The ``init_audits`` arms (the shipped thought
streams, whose leak is structural, and the planted leak) are built with the same seed and only
audited, untrained. Results come back as tidy tables with one row per (variant, seed[, condition]).

Training runs on ``device`` (the ``gpu`` profile's accelerator); the model then comes back to
the CPU for the audits and the evaluation suite, whose tensors live there (exact matches, leaks
and FLOP counts do not depend on where they are computed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from memnb.relsm import audit
from memnb.relsm.curriculum import SplitCurriculum, train_arm
from memnb.relsm.evaluate import Suite, evaluate_model
from memnb.relsm.variants import CAUSAL, LadderConfig, build
from memnb.seeding import seed_everything
from memnb.train import progress_enabled


@dataclass
class LadderResults:
    arms: pd.DataFrame  # one row per trained (variant, seed): size, cost, audits, perplexities
    init: pd.DataFrame  # one row per (init-audited variant, seed): size, leak, halting gradient
    tasks: pd.DataFrame  # one row per (variant, seed, condition)
    ponder: pd.DataFrame  # halting arms: iterations per (variant, seed, task, size)
    history: pd.DataFrame  # training loss per step


def run_ladder(
    variants: Sequence[str],
    seeds: Sequence[int],
    cfg: LadderConfig,
    curriculum: Callable[[int], SplitCurriculum],
    suite: Suite,
    probe: tuple[torch.Tensor, torch.Tensor],
    *,
    lr: float,
    schedule: str = "cosine",
    weight_decay: float = 0.1,
    threads: int = 1,
    device: torch.device | str = "cpu",
    init_audits: Sequence[str] = (),
) -> LadderResults:
    """Train and evaluate every arm on every seed (``curriculum(seed)`` gives a seed's data;
    ``lr``, ``schedule`` and ``weight_decay`` go to ``curriculum.train_arm``)."""
    arms, init, tasks, ponder, history = [], [], [], [], []
    x, y = probe
    t_probe = x.size(1) // 2
    for seed in seeds:
        for variant in init_audits:
            seed_everything(seed, threads=threads)
            model = build(variant, cfg)
            grad = audit.halting_gradient(model, x, y) if hasattr(model.head, "halt") else float("nan")
            init.append(
                {
                    "variant": variant,
                    "seed": seed,
                    "causal_by_design": CAUSAL[variant],
                    "params": model.num_params(),
                    "future_leak": audit.future_leak(model, x, t_probe),
                    "halting_grad_is_none": grad is None,
                }
            )
        for variant in variants:
            seed_everything(seed, threads=threads)
            model = build(variant, cfg).to(device)
            hist, seconds = train_arm(
                model, curriculum(seed), lr=lr, schedule=schedule, weight_decay=weight_decay, desc=f"{variant} s{seed}"
            )
            model.cpu()
            flops = audit.train_step_flops(model, x, y)
            grad = audit.halting_gradient(model, x, y) if hasattr(model.head, "halt") else float("nan")
            out = evaluate_model(model, suite)
            key = {"variant": variant, "seed": seed}
            arms.append(
                {
                    **key,
                    "causal_by_design": CAUSAL[variant],
                    "params": model.num_params(),
                    "train_s": seconds,
                    "steps": len(hist),
                    "flops_per_step": flops,
                    "future_leak": audit.future_leak(model, x, t_probe),
                    "halting_grad": float("nan") if grad is None else grad,
                    "halting_grad_is_none": grad is None,
                    **out["text"],
                }
            )
            tasks.append(out["tasks"].assign(**key))
            if len(out["ponder"]):
                ponder.append(out["ponder"].assign(**key))
            history.append(pd.DataFrame(hist).assign(**key))
            if progress_enabled():
                print(f"{variant:12s} seed {seed}: {seconds:6.1f}s", flush=True)
    return LadderResults(
        pd.DataFrame(arms),
        pd.DataFrame(init),
        pd.concat(tasks, ignore_index=True),
        pd.concat(ponder, ignore_index=True) if ponder else pd.DataFrame(),
        pd.concat(history, ignore_index=True),
    )
