"""AMS v4 on the frozen pretrained reader: chapter 40's session harness (issue 18).

The reader is SmolLM2-135M-Instruct (``memnb.models.pretrained``; 4-bit quantisation noise, the
instruct checkpoint). A session (``memnb.data.tasks.pseudo_facts``) holds 7 facts about invented
pseudo-word people and one question; the prompt is the book's one fact prompt
(``memnb.eval.reader.fact_prompt``), the reply prefilled with the gold fact's stem ("Dovaru's
favourite colour is"). Modes (what reaches the reader):

- ``floor``: the question alone; ``oracle``: the gold fact as text; ``D``: every fact as text;
  ``bm25@1``: the BM25 top-1 fact (question against facts) as text;
- ``A:<m>``: AMS model ``m``'s 12-slot prefix attending over every memory, the question alone;
- ``Atop<k>:<m>``: the prefix attending over the model's topic top-k memories (v4.7 fix 3);
- ``Agold:<m>``: the prefix attending over the gold memory only (a perfect filter);
- ``C:<m>``: the prefix plus the model's topic top-1 fact as text (the seed's hybrid);
- ``Aswap:<m>``: A with the store of the *next* session (counterfactual: what the memory does).

The prefix is ``[prefix; prompt]`` as ``inputs_embeds`` (seed ``bridge/memllm.py``); the query
hidden state is the pooled state of the question and stem (the seed pooled its whole prompt,
``"User: q\\nAssistant:"``; here the chat template's fixed system turn would dominate that mean).

Scores per query: ``strict`` — the first word of the greedy reply equals the value
(``memnb.eval.reader.first_word``); ``forced`` — the value's first token is the likeliest next
token among the attribute's 8 values (chance 1/8); ``substring`` — the seed's scorer, the value
anywhere in the reply. Decoding is greedy, batched with left padding, through the KV cache
(``transformers`` ``generate`` on ``inputs_embeds``); ``decode`` also returns the first step's raw
logits, from which the forced choice is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from memnb.ams.model import AMS
from memnb.ams.sessions import bm25_rank
from memnb.data.tasks.pseudo_facts import FactSession
from memnb.eval.reader import fact_prompt, first_word

TEXT_MODES = ("floor", "oracle", "D", "bm25@1")


class ReaderTok:
    """The reader's tokenizer with the book's interface (``encode`` without special tokens,
    ``decode``, ``eos_id``), as ``memnb.ams.model.AMS`` expects."""

    def __init__(self, tokenizer) -> None:
        self.hf = tokenizer
        self.eos_id = tokenizer.eos_token_id
        self._cache: dict[str, list[int]] = {}

    def encode(self, text: str) -> list[int]:
        if text not in self._cache:
            self._cache[text] = self.hf(text, add_special_tokens=False).input_ids
        return list(self._cache[text])

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=True)


def gold_index(s: FactSession) -> int:
    return s.facts.index(s.gold_fact)


def query_text(s: FactSession) -> str:
    """What AMS pools into its query hidden state: the question and the stem."""
    return f"{s.question} {s.stem}"


@dataclass
class Item:
    """One reader input: the prompt text and an optional prefix ``(12, D)``."""

    prompt: str
    prefix: torch.Tensor | None = None


@torch.no_grad()
def mode_item(reader, mode: str, s: FactSession, models: dict[str, AMS], swap: FactSession | None = None) -> Item:
    """The reader input of ``mode`` for session ``s`` (module docstring)."""
    q, stem, facts = s.question, s.stem, s.facts
    if mode == "floor":
        return Item(fact_prompt(reader, (), q, stem))
    if mode == "oracle":
        return Item(fact_prompt(reader, (s.gold_fact,), q, stem))
    if mode == "D":
        return Item(fact_prompt(reader, facts, q, stem))
    if mode == "bm25@1":
        return Item(fact_prompt(reader, (facts[bm25_rank(facts, q)[0]],), q, stem))
    kind, _, name = mode.partition(":")
    if name not in models:
        raise ValueError(f"mode {mode!r} names no model; have {sorted(models)}")
    m = models[name]
    qt = query_text(s)
    if kind == "Aswap":
        if swap is None:
            raise ValueError("Aswap needs another session's store (swap=...)")
        store = m.write(list(swap.facts))
    else:
        store = m.write(list(facts))
    keep = None
    if kind == "Agold":
        keep = [gold_index(s)]
    elif kind.startswith("Atop"):
        keep = m.topic_rank(store, qt)[: int(kind[4:])]
    elif kind == "C":
        top = m.topic_rank(store, qt)[0]
        prefix, _ = m.prefix(store, qt)
        return Item(fact_prompt(reader, (facts[top],), q, stem), prefix.detach())
    elif kind not in ("A", "Aswap"):
        raise ValueError(f"unknown mode {mode!r}: {TEXT_MODES} or A/Atop<k>/Agold/C/Aswap:<model>")
    prefix, _ = m.prefix(store, qt, keep)
    return Item(fact_prompt(reader, (), q, stem), prefix.detach())


class _AddBias(LogitsProcessor):
    def __init__(self, bias: torch.Tensor) -> None:
        self.bias = bias

    def __call__(self, input_ids, scores):
        return scores + self.bias.to(scores.dtype)


@torch.no_grad()
def decode(
    reader, items: Sequence[Item], *, new: int, batch: int = 8, bias: torch.Tensor | None = None
) -> tuple[list[str], torch.Tensor]:
    """Greedy replies (``new`` tokens, stopping at the end-of-turn token) and the first step's
    raw logits ``[N, V]``. ``bias`` (``[N, V]``, optional) is added to every step's logits (E7)."""
    tok, lm = reader.tokenizer, reader.model
    emb = lm.get_input_embeddings()
    replies, first = [], []
    for b0 in range(0, len(items), batch):
        rows = items[b0 : b0 + batch]
        seqs = []
        for it in rows:
            e = emb(torch.tensor(tok(it.prompt, add_special_tokens=False).input_ids))
            seqs.append(e if it.prefix is None else torch.cat([it.prefix.to(e.dtype), e], 0))
        width = max(len(e) for e in seqs)
        x = torch.zeros(len(seqs), width, seqs[0].shape[1])
        mask = torch.zeros(len(seqs), width, dtype=torch.long)
        for i, e in enumerate(seqs):  # left padding
            x[i, width - len(e) :] = e
            mask[i, width - len(e) :] = 1
        procs = None if bias is None else LogitsProcessorList([_AddBias(bias[b0 : b0 + len(rows)])])
        out = lm.generate(
            inputs_embeds=x, attention_mask=mask, max_new_tokens=new, do_sample=False, logits_processor=procs,
            pad_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, output_logits=True,
            return_dict_in_generate=True,
        )  # fmt: skip
        replies += tok.batch_decode(out.sequences, skip_special_tokens=True)
        first.append(out.logits[0].float())
    return replies, torch.cat(first)


def forced_hit(reader, logits: torch.Tensor, s: FactSession) -> bool:
    """Is the value's first token the likeliest among the attribute's values' first tokens?"""
    tok = reader.tokenizer
    ids = [tok(" " + v, add_special_tokens=False).input_ids[0] for v in s.candidates]
    return s.candidates[int(logits[ids].argmax())] == s.answer


def score(reader, reply: str, logits: torch.Tensor, s: FactSession) -> dict:
    return {
        "strict": float(first_word(reply) == s.answer.lower()),
        "forced": float(forced_hit(reader, logits, s)),
        "substring": float(s.answer.lower() in reply.lower()),
    }


def run_modes(
    reader, sessions: Sequence[FactSession], modes: Sequence[str], models: dict[str, AMS], *, new: int, batch: int = 8
) -> list[dict]:
    """One record per (session, mode): the scores, the reply and the prompt length in tokens.
    ``Aswap`` reads the store of session ``i + 1`` (cyclically)."""
    rows = []
    for mode in modes:
        items = [
            mode_item(reader, mode, s, models, swap=sessions[(i + 1) % len(sessions)]) for i, s in enumerate(sessions)
        ]
        replies, logits = decode(reader, items, new=new, batch=batch)
        for i, (s, it, r) in enumerate(zip(sessions, items, replies, strict=True)):
            n_tok = len(reader.tokenizer(it.prompt, add_special_tokens=False).input_ids)
            rows.append(
                {
                    "session": i,
                    "mode": mode,
                    "answer": s.answer,
                    "reply": r,
                    "input_tokens": n_tok + (0 if it.prefix is None else it.prefix.shape[0]),
                    **score(reader, r, logits[i], s),
                }
            )
    return rows
