"""Prefix injection into the frozen LM, greedy decoding with a KV cache, and forced-choice scoring.

Seed ``projection/bridge.py`` / ``bridge/memllm.py`` (book/appendix/ams.md §1): the
input is ``inputs_embeds = [prefix; wte(prompt)]`` (the prefix takes positions 0-11; GPT-2 adds
its position embeddings to both). The seed decodes greedily **without** a KV cache and recomputes
the prefix inside ``generate``; here every mode decodes with the book's one sampler
(``memnb.eval.sampling``: prefill once, then one token at a time through ``past_key_values``), so
latencies compare like with like.

- ``greedy``: ``argmax(logits + bias)`` for ``max_new`` tokens or until EOS. ``bias`` is an
  optional additive logit vector (the E7 content-bias decoder, ``content_bias``).
- ``choice_logprobs``: ``log p(" " + candidate | prefix, prompt)`` summed over the candidate's
  tokens, for every candidate in one right-padded batch: a forced choice whose chance level is
  ``1/len(candidates)`` and which sees memory influence too small to flip a greedy answer.
- ``first_token_kl``: ``KL(p_prefix || p_no-prefix)`` of the next-token distribution at the
  prompt's end (E1).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.eval.sampling import sample


def fit(lm: nn.Module, ids: Sequence[int], reserve: int) -> list[int]:
    """The last tokens of ``ids`` that leave ``reserve`` of the LM's learned positions free (a
    prompt longer than the position table is cut from the left, as any fixed-window LM must)."""
    room = int(lm.config.n_positions) - reserve
    if room < 1:
        raise ValueError(f"reserve={reserve} leaves no room in {lm.config.n_positions} positions")
    return list(ids)[-room:]


def _embeds(lm: nn.Module, ids: Sequence[int], prefix: torch.Tensor | None) -> torch.Tensor:
    e = lm.get_input_embeddings()(torch.tensor(list(ids)))
    return e if prefix is None else torch.cat([prefix.to(e.dtype), e], 0)


def greedy(
    lm: nn.Module,
    ids: Sequence[int],
    *,
    prefix: torch.Tensor | None = None,
    max_new: int = 16,
    eos_id: int | None = None,
    bias: torch.Tensor | None = None,
) -> list[int]:
    """Greedy continuation (token ids) of ``[prefix; prompt]`` with a KV cache, the prompt cut to
    leave room (``fit``), stopping before EOS (``memnb.eval.sampling.sample`` at temperature 0)."""
    if not ids:
        raise ValueError("greedy needs a non-empty prompt")
    ids = fit(lm, ids, max_new + (0 if prefix is None else prefix.shape[0]))
    stop = () if eos_id is None else (eos_id,)
    return sample(lm, ids, max_new, temperature=0, prefix=prefix, stop=stop, bias=bias)


@torch.no_grad()
def choice_logprobs(
    lm: nn.Module, tok, ids: Sequence[int], candidates: Sequence[str], *, prefix: torch.Tensor | None = None
) -> torch.Tensor:
    """Summed log-probability of each ``" " + candidate`` after ``[prefix; prompt]``."""
    cand = [tok.encode(" " + c) for c in candidates]
    ids = fit(lm, ids, max(map(len, cand)) + (0 if prefix is None else prefix.shape[0]))
    base = _embeds(lm, ids, prefix)
    n0 = base.shape[0]
    width = n0 + max(map(len, cand))
    x = torch.zeros(len(cand), width, base.shape[1])
    mask = torch.zeros(len(cand), width, dtype=torch.long)
    emb = lm.get_input_embeddings()
    for i, c in enumerate(cand):
        x[i, :n0] = base
        x[i, n0 : n0 + len(c)] = emb(torch.tensor(c))
        mask[i, : n0 + len(c)] = 1
    logp = F.log_softmax(lm(inputs_embeds=x, attention_mask=mask).logits.float(), -1)
    return torch.stack([logp[i, n0 - 1 + torch.arange(len(c)), torch.tensor(c)].sum() for i, c in enumerate(cand)])


@torch.no_grad()
def first_token_kl(lm: nn.Module, ids: Sequence[int], prefix: torch.Tensor) -> float:
    ids = fit(lm, ids, prefix.shape[0])
    with_p = F.log_softmax(lm(inputs_embeds=_embeds(lm, ids, prefix)[None]).logits[0, -1], -1)
    without = F.log_softmax(lm(inputs_embeds=_embeds(lm, ids, None)[None]).logits[0, -1], -1)
    return float((with_p.exp() * (with_p - without)).sum())


def idf(documents: Sequence[Sequence[int]], vocab_size: int) -> torch.Tensor:
    """``log((1 + n_docs) / (1 + df)) + 1`` per token id (smoothed IDF over token-id sets)."""
    df = Counter(t for d in documents for t in set(d))
    v = torch.zeros(vocab_size)
    for t, n in df.items():
        v[t] = n
    return torch.log((1 + len(documents)) / (1 + v)) + 1


def content_bias(memory_ids: Sequence[Sequence[int]], idf_vec: torch.Tensor, beta: float) -> torch.Tensor:
    """The E7 no-learning decoder's logit bias: ``β·IDF[t]`` for every token t in any memory
    (seed v3.46 ``content_bias_scale``; book/appendix/ams.md §3, merge gate), zero elsewhere."""
    if beta < 0 or not math.isfinite(beta):
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    b = torch.zeros_like(idf_vec)
    toks = torch.tensor(sorted({t for m in memory_ids for t in m}), dtype=torch.long)
    if toks.numel():
        b[toks] = beta * idf_vec[toks]
    return b
