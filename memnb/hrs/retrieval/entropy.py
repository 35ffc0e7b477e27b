"""Predictive entropy and the EGR read trigger (HRS ``entropy_monitor.py``, book/appendix/hrs.md §4).

Entropy of the next-token distribution p = softmax(logits) at temperature 1, in bits:

    H_t = − Σ_v p_t(v) log2 p_t(v)          (0 ≤ H_t ≤ log2 |V|)

Read rule: keep the last ``window`` entropies of generated tokens; when the window is full, the
store is not in cooldown and mean(window) > threshold, fire a retrieval, then stay silent for
``cooldown`` steps (seed: window 10, threshold 4.0 bits, cooldown 10).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import torch


def entropy_bits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy in bits of ``softmax(logits)`` over the last dimension."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1) / torch.log(torch.tensor(2.0))


def trigger_steps(entropies: Iterable[float], *, threshold: float, window: int = 10, cooldown: int = 10) -> list[int]:
    """The steps (0-based) at which the read rule fires over a stream of per-token entropies."""
    if window < 1 or cooldown < 0:
        raise ValueError(f"need window >= 1 and cooldown >= 0, got {window}, {cooldown}")
    recent: deque[float] = deque(maxlen=window)
    fired, quiet_until = [], -1
    for step, h in enumerate(entropies):
        recent.append(float(h))
        if len(recent) == window and step > quiet_until and sum(recent) / window > threshold:
            fired.append(step)
            quiet_until = step + cooldown
    return fired


@torch.inference_mode()
def generation_entropies(
    model, prompt: list[int], n_tokens: int, *, seed: int, temperature: float = 0.9, top_k: int = 50
) -> list[float]:
    """Entropies (bits, temperature 1, as the seed measured them) of the next-token distributions
    at each generated position, sampling at ``temperature``/``top_k`` (seed: 0.9 / 50).
    ``model`` is a ``transformers`` causal LM."""
    from memnb.eval.sampling import sample
    from memnb.models.backbone import CausalLM

    lm = CausalLM(model)
    generated = sample(lm, prompt, n_tokens, temperature=temperature, top_k=top_k, seed=seed)
    ids = (prompt + generated)[-lm.max_context :]
    logits = lm(torch.tensor([ids]))[0][0]
    return entropy_bits(logits[len(ids) - len(generated) - 1 : -1]).tolist()
