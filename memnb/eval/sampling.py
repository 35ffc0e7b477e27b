"""The one sampler: batched, seeded, greedy or top-k, with the model's KV cache or a full recompute.

Rule (per row, per step): the next token is drawn from ``softmax((logits + bias) / temperature)``
restricted to the ``top_k`` most likely tokens; ``temperature=0`` is greedy decoding,
``argmax(logits + bias)``. ``bias`` is an optional additive logit vector (AMS's content-bias
decoder). One ``torch.Generator`` seeded with ``seed`` draws for all rows of a batch at once, so a
seeded run is reproducible, and a row's draws depend on the batch it is sampled in.

Procedure (``model`` is a memnb model ``(idx, state) -> (logits, state)`` or a ``transformers``
causal LM):

- ``cache=True``: the prompts are processed in one call, then only the newest token is fed, the
  past carried by the model's cache: a memnb model's ``state``, a ``transformers`` model's
  ``past_key_values`` (a sequence past its ``n_positions`` learned positions is refused). Rows of
  a ragged batch are decoded in groups of equal prompt length. A memnb model that returns
  ``state=None`` (stateless, e.g. ``models.backbone.CausalLM``) is re-fed its context instead.
- ``cache=False`` (or a stateless model): every step runs the model on each row's whole context so
  far, right-padded with ``pad_id`` to the longest row, and reads each row at its own last
  position (pads after a position never reach it in a causal model). HRS V16 samples this way
  because its engram depends on the whole sequence; ReLSM's ladder because a model that may
  read the future then sees only padding there. A re-fed context is cut to the model's
  ``max_context`` (or ``n_positions``) most recent tokens, so no model predicts from the last
  token alone.
- ``prefix``: ``[P, d]`` input embeddings placed before every prompt (``transformers`` models;
  AMS's memory prefix), read in the first call and then held in the cache.
- ``stop``: token ids that end a row; the stop token is not returned.

Extra keyword arguments go to every call of a memnb model (e.g. HRS's ``engram=...``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn as nn

from memnb.eval.pooling import is_transformers_model


def pick(logits: torch.Tensor, *, temperature: float, top_k: int | None, gen: torch.Generator) -> torch.Tensor:
    """``[B]`` next tokens from ``[B, V]`` logits: argmax at ``temperature=0``, else a top-k draw."""
    if temperature == 0:
        return logits.argmax(-1)
    if top_k is not None and top_k < logits.size(-1):
        cut = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < cut, float("-inf"))
    return torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=gen).squeeze(1)


def _positions(model: nn.Module) -> int | None:
    """How many tokens the model can read at once (None: no limit)."""
    if is_transformers_model(model):
        return int(model.config.n_positions)
    return getattr(model, "max_context", None)


def _call(model: nn.Module, idx: torch.Tensor, state, prefix: torch.Tensor | None, use_cache: bool, kwargs):
    """``(logits [B, T, V] at the positions of idx, new state)``."""
    if not is_transformers_model(model):
        return model(idx, state, **kwargs)
    if state is not None or prefix is None:
        out = model(input_ids=idx, past_key_values=state, use_cache=use_cache)
        return out.logits, out.past_key_values
    e = model.get_input_embeddings()(idx)
    e = torch.cat([prefix.to(e.dtype).expand(len(idx), -1, -1), e], dim=1)
    out = model(inputs_embeds=e, use_cache=use_cache)
    return out.logits[:, prefix.shape[0] :], out.past_key_values


def _window(seq: torch.Tensor, cur: torch.Tensor, limit: int | None, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's last ≤ ``limit`` tokens ``seq[r, :cur[r]]``, right-padded: (ids, read positions)."""
    if limit is None or int(cur.max()) <= limit:
        return seq[:, : int(cur.max())], cur - 1
    start = (cur - limit).clamp(min=0)
    pos = start[:, None] + torch.arange(int((cur - start).max()), device=seq.device)
    ids = seq.gather(1, pos.clamp(max=seq.size(1) - 1))
    return ids.masked_fill(pos >= cur[:, None], pad_id), cur - start - 1


def _decode(model, prompts, n_tokens, *, temperature, top_k, gen, cache, stop, bias, prefix, pad_id, kwargs):
    """``[B, n_tokens]`` tokens after ``prompts`` (a list of token lists; equal lengths if ``cache``)."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    B, rows = len(prompts), torch.arange(len(prompts), device=device)
    cur = torch.tensor([len(p) for p in prompts], device=device)  # tokens so far, per row
    seq = torch.full((B, int(cur.max()) + n_tokens), pad_id, dtype=torch.long, device=device)
    for r, p in enumerate(prompts):
        seq[r, : len(p)] = torch.tensor(p, dtype=torch.long)
    new = cur[:, None] + torch.arange(n_tokens, device=device)  # where each row's new tokens go
    limit = _positions(model)
    if limit is not None and prefix is not None:
        limit -= prefix.shape[0]
    state, last = None, None
    if cache:
        if is_transformers_model(model) and int(cur.max()) + n_tokens > limit:
            raise ValueError(
                f"{int(cur.max())} prompt + {n_tokens} new tokens exceed the model's {limit} positions; "
                "use a shorter prompt or continuation"
            )
        logits, state = _call(model, seq[:, : int(cur.max())], None, prefix, True, kwargs)
        last = logits[:, -1]
    done = torch.zeros(B, dtype=torch.bool)
    for step in range(n_tokens):
        if last is None:  # full recompute: each row read at its own last position
            ids, read = _window(seq, cur, limit, pad_id)
            last = _call(model, ids, None, prefix, False, kwargs)[0][rows, read]
        last = last.float().cpu()
        nxt = pick(last if bias is None else last + bias, temperature=temperature, top_k=top_k, gen=gen)
        seq[rows, cur] = nxt.to(device)
        cur, last = cur + 1, None
        done |= torch.isin(nxt, stop)
        if bool(done.all()) or step == n_tokens - 1:
            break
        if state is not None:
            logits, state = _call(model, nxt[:, None].to(device), state, prefix, True, kwargs)
            last = logits[:, -1]
    return seq.gather(1, new)


@torch.no_grad()
def sample_batch(
    model: nn.Module,
    prompts: Sequence[Sequence[int]] | torch.Tensor,
    n_tokens: int,
    *,
    temperature: float = 0.8,
    top_k: int | None = 40,
    seed: int = 0,
    cache: bool = True,
    stop: Iterable[int] = (),
    bias: torch.Tensor | None = None,
    prefix: torch.Tensor | None = None,
    pad_id: int = 0,
    **model_kwargs,
) -> list[list[int]]:
    """The tokens generated after each prompt (prompts not included): ``n_tokens`` per row, or
    fewer where a ``stop`` token ended the row."""
    prompts = prompts.tolist() if isinstance(prompts, torch.Tensor) else [list(p) for p in prompts]
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("need at least one prompt, each of at least one token")
    if temperature < 0 or n_tokens < 0:
        raise ValueError(f"need temperature >= 0 and n_tokens >= 0, got {temperature}, {n_tokens}")
    if prefix is not None and not is_transformers_model(model):
        raise ValueError("prefix embeddings need a transformers model")
    if n_tokens == 0:
        return [[] for _ in prompts]
    gen = torch.Generator(device="cpu").manual_seed(seed)
    ends = set(stop)
    stop = torch.tensor(sorted(ends), dtype=torch.long)
    bias = None if bias is None else bias.float().cpu()
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):  # ragged prompts under a cache: one group per prompt length
        groups.setdefault(len(p) if cache else 0, []).append(i)
    was_training = model.training
    model.eval()
    out: list[list[int]] = [[] for _ in prompts]
    for idx in groups.values():
        toks = _decode(
            model, [prompts[i] for i in idx], n_tokens, temperature=temperature, top_k=top_k, gen=gen, cache=cache,
            stop=stop, bias=bias, prefix=prefix, pad_id=pad_id, kwargs=model_kwargs,
        )  # fmt: skip
        for i, row in zip(idx, toks.tolist(), strict=True):
            out[i] = row[: next((k for k, t in enumerate(row) if t in ends), len(row))]
    model.train(was_training)
    return out


def sample(model: nn.Module, prompt: Sequence[int], n_tokens: int, **kwargs) -> list[int]:
    """The tokens generated after one prompt (``sample_batch`` with a batch of one)."""
    if not prompt:
        raise ValueError("prompt must hold at least one token")
    return sample_batch(model, [prompt], n_tokens, **kwargs)[0]
