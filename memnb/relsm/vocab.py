"""One token vocabulary for the whole ladder: ReLSM's algorithmic symbols, the needle task's
keys/values/filler and the characters of the Shakespeare corpus.

ReLSM trains one model on algorithmic prompts and then on language with one (LLaMA) tokenizer.
memnb's generators each have their own small vocabulary, so the ladder concatenates them:

    joint id = offset(source) + local id,   except <pad> -> 0 and <eos> -> 1 in every source

so that padding and end-of-answer mean the same thing everywhere (``PAD_ID``, ``EOS_ID``).
``IGNORE`` (-100) targets pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from memnb.data.tasks.algorithmic import VOCAB as ALG_VOCAB
from memnb.data.tasks.base import IGNORE, TaskBatch
from memnb.data.tasks.niah import niah_vocab

PAD_ID, EOS_ID = 0, 1
SEP_ID = 2  # the algorithmic tasks' <sep> (the end of a prompt): their first symbol after pad and eos


@dataclass(frozen=True)
class JointVocab:
    """The concatenated vocabulary. ``sources`` maps a source name to its local symbols and the
    local ids of its pad and eos."""

    char_tokens: tuple[str, ...]
    char_pad: int
    char_eos: int
    niah_keys: int = 32
    niah_values: int = 32
    niah_filler: int = 16

    @cached_property
    def tables(self) -> dict[str, torch.Tensor]:
        """Local id -> joint id, one lookup table per source."""
        niah = niah_vocab(self.niah_keys, self.niah_values, self.niah_filler)
        sources = {
            "alg": (len(ALG_VOCAB), ALG_VOCAB.pad, ALG_VOCAB.eos),
            "niah": (niah.size, niah.pad, niah.eos),
            "char": (len(self.char_tokens), self.char_pad, self.char_eos),
        }
        tables, next_id = {}, 2
        for name, (size, pad, eos) in sources.items():
            table = torch.empty(size, dtype=torch.long)
            others = [i for i in range(size) if i not in (pad, eos)]
            table[others] = torch.arange(next_id, next_id + len(others))
            table[pad], table[eos] = PAD_ID, EOS_ID
            tables[name] = table
            next_id += len(others)
        return tables

    @property
    def size(self) -> int:
        return int(max(t.max() for t in self.tables.values())) + 1

    def map(self, source: str, ids: torch.Tensor) -> torch.Tensor:
        """Local ids (``IGNORE`` allowed) of ``source`` as joint ids."""
        if source not in self.tables:
            raise ValueError(f"unknown source {source!r}; sources: {sorted(self.tables)}")
        table = self.tables[source]
        out = table[ids.clamp(min=0)]
        return torch.where(ids == IGNORE, ids, out)

    def batch(self, source: str, batch: TaskBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """A task batch's (inputs, targets) in joint ids."""
        return self.map(source, batch.inputs), self.map(source, batch.targets)


def joint_vocab(tokenizer) -> JointVocab:
    """The ladder's vocabulary for a memnb character tokenizer."""
    return JointVocab(tuple(tokenizer.tokens), tokenizer.pad_id, tokenizer.eos_id)
