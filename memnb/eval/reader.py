"""Measuring a pretrained reader (``memnb.models.pretrained.Reader``): speed, held-out
perplexity, and whether it copies a fact from its prompt.

- ``prefill_tokens_per_s``: one forward pass over a ``[1, n]`` prompt (best of ``repeats``);
- ``decode_tokens_per_s``: greedy generation of ``new`` tokens with the KV cache at batch ``b``,
  aggregate tokens per second (b · new / seconds, best of ``repeats``);
- ``text_nll``: teacher-forced NLL of a text in non-overlapping windows of ``window`` tokens,
  each starting fresh (no BOS added): nats per token and per character (Σ NLL / characters), the
  second comparable with the book's character-level models;
- ``copy_control``: on fact sessions (``memnb.data.tasks.pseudo_facts``), the strict hit rate —
  the first word the reader writes after the prefilled stem equals the value, case-insensitive —
  with no fact in the prompt (``floor``), the gold fact alone (``oracle``) or every fact of the
  session (``D``); greedy, batched with left padding (identical replies to batch 1, checked in the
  tests). The forced choice (is the value's first token the likeliest among every value the
  attribute can take? chance 1/8) is returned beside it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from memnb.data.tasks.pseudo_facts import FactSession

MODES = ("floor", "oracle", "D")


@torch.no_grad()
def prefill_tokens_per_s(reader, n: int = 256, repeats: int = 3) -> float:
    ids = torch.randint(100, 40_000, (1, n), generator=torch.Generator().manual_seed(0))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        reader.model(input_ids=ids)
        best = min(best, time.perf_counter() - t)
    return n / best


@torch.no_grad()
def decode_tokens_per_s(reader, batch: int = 1, new: int = 16, prompt: int = 32, repeats: int = 2) -> float:
    ids = torch.randint(100, 40_000, (batch, prompt), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        out = reader.model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new, do_sample=False,
            pad_token_id=reader.tokenizer.eos_token_id,
        )  # fmt: skip
        best = min(best, time.perf_counter() - t)
    return batch * (out.shape[1] - prompt) / best


@torch.no_grad()
def text_nll(reader, text: str, window: int = 512, max_tokens: int | None = None) -> dict[str, float]:
    """``{"nats_per_token", "nats_per_char", "tokens", "chars"}`` of ``text`` (first ``max_tokens``)."""
    ids = reader.tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids[0]
    if max_tokens is not None:
        ids = ids[: max_tokens + 1]
    total, n = 0.0, 0
    for s in range(0, len(ids) - 1, window):
        chunk = ids[s : s + window + 1]
        if len(chunk) < 2:
            break
        logits = reader.model(input_ids=chunk[None, :-1]).logits[0]
        total += F.cross_entropy(logits.double(), chunk[1:], reduction="sum").item()
        n += len(chunk) - 1
    chars = len(reader.tokenizer.decode(ids[: n + 1]))
    return {"nats_per_token": total / n, "nats_per_char": total / chars, "tokens": n, "chars": chars}


def fact_prompt(reader, facts: Sequence[str], question: str, stem: str = "") -> str:
    """The book's one prompt for a question about facts: the chat template around
    ``"Facts:\n<fact>\n…\n\nQuestion: <question>"`` (no "Facts:" block when ``facts`` is empty), the
    assistant's reply prefilled with ``stem``. Every mode of every chapter that asks the reader
    about facts builds its prompt here (chapter 00's copy control, chapter 40's AMS harness)."""
    user = ("Facts:\n" + "\n".join(facts) + "\n\n" if facts else "") + f"Question: {question}"
    return reader.chat_prompt(user, stem)


def prompt(reader, session: FactSession, mode: str) -> str:
    """The chat prompt of ``session`` in ``mode`` with the reply prefilled by the stem."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    facts = {"floor": (), "oracle": (session.gold_fact,), "D": session.facts}[mode]
    return fact_prompt(reader, facts, session.question, session.stem)


def first_word(text: str) -> str:
    m = re.search(r"[A-Za-z]+", text)
    return m.group(0).lower() if m else ""


@torch.no_grad()
def generate(reader, prompts: Sequence[str], new: int = 4, batch: int = 8) -> list[str]:
    """Greedy continuations of ``prompts`` (left-padded batches of ``batch``)."""
    tok = reader.tokenizer
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    out = []
    for i in range(0, len(prompts), batch):
        enc = tok(list(prompts[i : i + batch]), return_tensors="pt", padding=True, add_special_tokens=False)
        gen = reader.model.generate(**enc, max_new_tokens=new, do_sample=False, pad_token_id=tok.pad_token_id)
        out += tok.batch_decode(gen[:, enc.input_ids.shape[1] :], skip_special_tokens=True)
    return out


@torch.no_grad()
def forced_choice(reader, prompts: Sequence[str], sessions: Sequence[FactSession]) -> list[bool]:
    """Is the gold value's first token the likeliest next token among the attribute's values
    (``FactSession.candidates``: chance 1/8)?"""
    tok = reader.tokenizer
    hits = []
    for p, s in zip(prompts, sessions, strict=True):
        ids = tok(p, return_tensors="pt", add_special_tokens=False).input_ids
        logp = reader.model(input_ids=ids).logits[0, -1].log_softmax(-1)
        first = [tok(" " + v, add_special_tokens=False).input_ids[0] for v in s.candidates]
        hits.append(s.candidates[int(torch.stack([logp[t] for t in first]).argmax())] == s.answer)
    return hits


def copy_control(reader, sessions: Sequence[FactSession], modes: Sequence[str] = MODES, batch: int = 8) -> dict:
    """Per mode: strict hits and forced-choice hits (lists of bools, one per session) and the replies."""
    out = {}
    for mode in modes:
        prompts = [prompt(reader, s, mode) for s in sessions]
        replies = generate(reader, prompts, batch=batch)
        out[mode] = {
            "strict": [first_word(r) == s.answer.lower() for r, s in zip(replies, sessions, strict=True)],
            "forced": forced_choice(reader, prompts, sessions),
            "replies": replies,
        }
    return out
