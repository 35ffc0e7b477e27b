"""Character-level and byte-level BPE tokenisers with one small common interface.

Both offer ``encode(str) -> list[int]``, ``encode_batch(list[str])``, ``decode(list[int]) -> str``,
``vocab_size``, ``name``, ``eos_id``, ``pad_id``, ``tokens`` (id -> token string),
``fingerprint`` (a hash of the vocabulary, for cache keys) and ``save(dir)`` / ``load(dir)``.

- ``CharTokenizer``: ids ``0, 1, 2`` are ``<pad>``, ``<unk>``, ``<eos>``, then the characters
  of the training text plus the ten digits (rare in Shakespeare, needed by passkeys), in code
  point order. Unknown characters encode to ``<unk>``.
- ``BPETokenizer``: a byte-level BPE (GPT-2 style) trained locally with HF ``tokenizers`` on
  the corpus train split, wrapped as a ``transformers.PreTrainedTokenizerFast``; specials
  ``<|endoftext|>`` (id 0, also EOS) and ``<pad>`` (id 1). Decoding is lossless.

``get_tokenizer("char" | "bpe")`` builds once, caches by config hash, and loads offline.
``encode_corpus(split, tokenizer)`` is a split as one ``LongTensor``: every document followed
by EOS, cached as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from memnb.cache import cached_dir, config_hash
from memnb.data.corpus import SPLITS, corpus_key, prepare

CHAR_SPECIALS = ("<pad>", "<unk>", "<eos>")
BPE_SPECIALS = ("<|endoftext|>", "<pad>")
ALWAYS_CHARS = "0123456789"


class Tokenizer(Protocol):
    name: str

    @property
    def vocab_size(self) -> int: ...
    @property
    def eos_id(self) -> int: ...
    @property
    def pad_id(self) -> int: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def fingerprint(self) -> str: ...
    def encode(self, text: str) -> list[int]: ...
    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...
    def decode(self, ids: Iterable[int]) -> str: ...


class CharTokenizer:
    """One id per character. ``CharTokenizer.train(texts)`` takes its alphabet from ``texts``.

    >>> tok = CharTokenizer("ab")
    >>> tok.encode("abc"), tok.decode(tok.encode("ba"))
    ([3, 4, 1], 'ba')
    """

    name = "char"

    def __init__(self, chars: Iterable[str]):
        chars = sorted(set(chars) - set(CHAR_SPECIALS))
        if any(len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer alphabet entries must be single characters")
        self._tokens = list(CHAR_SPECIALS) + chars
        codes = np.array([ord(c) for c in chars], dtype=np.int64)
        self._lut = np.full(int(codes.max(initial=0)) + 1, self.unk_id, dtype=np.int64)
        self._lut[codes] = np.arange(len(CHAR_SPECIALS), len(self._tokens))

    @classmethod
    def train(cls, texts: Iterable[str], extra: str = ALWAYS_CHARS) -> CharTokenizer:
        seen: set[str] = set(extra)
        for text in texts:
            seen.update(text)
        return cls(seen)

    vocab_size = property(lambda self: len(self._tokens))
    pad_id = property(lambda self: 0)
    unk_id = property(lambda self: 1)
    eos_id = property(lambda self: 2)
    tokens = property(lambda self: list(self._tokens))
    fingerprint = property(lambda self: config_hash(self._tokens))

    def encode_array(self, text: str) -> np.ndarray:
        """``encode`` as an int64 array (vectorised; fast on megabytes of text)."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        inside = codes < len(self._lut)
        return np.where(inside, self._lut[np.where(inside, codes, 0)], self.unk_id)

    def encode(self, text: str) -> list[int]:
        return self.encode_array(text).tolist()

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: Iterable[int]) -> str:
        """Characters joined; special ids appear as their names (``<eos>``, ``<unk>``, ``<pad>``)."""
        return "".join(self._tokens[int(i)] for i in ids)

    def save(self, folder: str | Path) -> None:
        Path(folder, "char_tokenizer.json").write_text(json.dumps({"tokens": self._tokens}, ensure_ascii=False))

    @classmethod
    def load(cls, folder: str | Path) -> CharTokenizer:
        tokens = json.loads(Path(folder, "char_tokenizer.json").read_text())["tokens"]
        if tuple(tokens[: len(CHAR_SPECIALS)]) != CHAR_SPECIALS:
            raise ValueError(f"{folder} does not hold a CharTokenizer vocabulary")
        return cls(tokens[len(CHAR_SPECIALS) :])

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


class BPETokenizer:
    """A byte-level BPE held as ``self.hf`` (a ``transformers.PreTrainedTokenizerFast``)."""

    def __init__(self, hf):
        self.hf = hf
        self.name = f"bpe{len(hf)}"

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2) -> BPETokenizer:
        from tokenizers import ByteLevelBPETokenizer
        from transformers import PreTrainedTokenizerFast

        if not 256 + len(BPE_SPECIALS) <= vocab_size <= 2**16:
            raise ValueError(f"vocab_size must be in [{256 + len(BPE_SPECIALS)}, 65536], got {vocab_size}")
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(
            texts,
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(BPE_SPECIALS),
            show_progress=False,
        )
        eos, pad = BPE_SPECIALS
        hf = PreTrainedTokenizerFast(
            tokenizer_object=bpe._tokenizer, eos_token=eos, bos_token=eos, unk_token=eos, pad_token=pad
        )
        return cls(hf)

    vocab_size = property(lambda self: len(self.hf))
    eos_id = property(lambda self: self.hf.eos_token_id)
    pad_id = property(lambda self: self.hf.pad_token_id)
    tokens = property(lambda self: self.hf.convert_ids_to_tokens(list(range(len(self.hf)))))
    fingerprint = property(lambda self: config_hash(self.hf.backend_tokenizer.to_str()))

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.hf.backend_tokenizer.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: Iterable[int]) -> str:
        return self.hf.decode(list(ids), clean_up_tokenization_spaces=False)

    def save(self, folder: str | Path) -> None:
        self.hf.save_pretrained(str(folder))

    @classmethod
    def load(cls, folder: str | Path) -> BPETokenizer:
        from transformers import PreTrainedTokenizerFast

        if not Path(folder, "tokenizer.json").exists():
            raise FileNotFoundError(f"no BPE tokenizer in {folder} (expected tokenizer.json)")
        return cls(PreTrainedTokenizerFast.from_pretrained(str(folder), local_files_only=True))

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"


def _train_texts() -> list[str]:
    with open(prepare() / "train.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def tokenizer_config(kind: str, vocab_size: int = 4096) -> dict:
    """The cache key of a tokeniser: what it was trained on and how."""
    if kind == "char":
        return {"kind": "char", "corpus": corpus_key(), "extra": ALWAYS_CHARS}
    if kind == "bpe":
        import tokenizers

        return {
            "kind": "bpe",
            "corpus": corpus_key(),
            "vocab_size": vocab_size,
            "min_frequency": 2,
            "specials": list(BPE_SPECIALS),
            "tokenizers": tokenizers.__version__,
        }
    raise ValueError(f"tokenizer kind must be 'char' or 'bpe', got {kind!r}")


def tokenizer_path(kind: str = "char", vocab_size: int = 4096) -> Path:
    """The cached folder of a tokeniser trained on the corpus train split (built if missing)."""
    config = tokenizer_config(kind, vocab_size)

    def build(folder: Path) -> None:
        texts = _train_texts()
        tok = CharTokenizer.train(texts) if kind == "char" else BPETokenizer.train(texts, vocab_size=vocab_size)
        tok.save(folder)

    def verify(folder: Path) -> str | None:  # folders built before file lists: at least it must load
        try:
            CharTokenizer.load(folder) if kind == "char" else BPETokenizer.load(folder)
        except Exception as e:
            return f"the tokenizer does not load ({type(e).__name__})"
        return None

    return cached_dir("tokenizer", config, build, verify, checksums=True)


@lru_cache(maxsize=8)
def get_tokenizer(kind: str = "char", vocab_size: int = 4096) -> CharTokenizer | BPETokenizer:
    """The corpus tokeniser ``"char"`` or ``"bpe"`` (``vocab_size`` applies to BPE only)."""
    folder = tokenizer_path(kind, vocab_size)
    return CharTokenizer.load(folder) if kind == "char" else BPETokenizer.load(folder)


def encoded_path(split: str, tokenizer: Tokenizer) -> Path:
    """The cached ``ids.npy`` of ``split`` encoded by ``tokenizer`` (built if missing)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    config = {"corpus": corpus_key(), "split": split, "tokenizer": tokenizer.name, "fingerprint": tokenizer.fingerprint}

    def build(folder: Path) -> None:
        with open(prepare() / f"{split}.jsonl", encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in f]
        pieces = []
        for ids in tokenizer.encode_batch(texts):
            pieces += [np.asarray(ids, dtype=np.int64), np.array([tokenizer.eos_id])]
        dtype = np.uint16 if tokenizer.vocab_size <= 2**16 else np.int32
        np.save(folder / "ids.npy", np.concatenate(pieces).astype(dtype))

    def verify(folder: Path) -> str | None:  # folders built before file lists: the array must be whole
        try:
            np.load(folder / "ids.npy", mmap_mode="r")
        except (OSError, ValueError) as e:
            return f"ids.npy does not load ({type(e).__name__}: {e})"
        return None

    return cached_dir("encoded", config, build, verify, checksums=True) / "ids.npy"


def encode_corpus(split: str, tokenizer: Tokenizer) -> torch.Tensor:
    """Split ``split`` as one 1-D ``LongTensor``: each document's ids followed by EOS (cached)."""
    return torch.from_numpy(np.load(encoded_path(split, tokenizer)).astype(np.int64))
