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


@torch.inference_mode()
def reader_generation_entropies(
    model, tokenizer, prompts: list[str], n_tokens: int, *, seed: int, temperature: float = 0.9, top_k: int = 50,
    batch_size: int = 8,
) -> list[list[float]]:  # fmt: skip
    """Per prompt, the entropies (bits, of the raw next-token logits at temperature 1, as the seed
    measured them) at each of ``n_tokens`` positions sampled at ``temperature`` / ``top_k`` by a
    ``transformers`` causal LM (left-padded batches, KV cache; ``torch.manual_seed(seed)`` before
    each batch, so the samples are fixed by ``seed``). Sampling runs on past a stop token."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    out: list[list[float]] = []
    for b in range(0, len(prompts), batch_size):
        enc = tokenizer(list(prompts[b : b + batch_size]), return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(seed + b)
        gen = model.generate(
            **enc, max_new_tokens=n_tokens, min_new_tokens=n_tokens, do_sample=True, temperature=temperature,
            top_k=top_k, output_logits=True, return_dict_in_generate=True, pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
        h = entropy_bits(torch.stack(gen.logits, dim=1))  # [B, n_tokens]
        out += h.tolist()
    return out
