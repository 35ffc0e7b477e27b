"""Chapter 31's pilot: seconds per text for the pretrained reader's keys and entropies, and the
numbers the budget is sized from.

    python -m memnb.hrs.retrieval.pilot [--texts 64] [--batch 16]

Reads ``--texts`` same-domain distractors (``haystack.places``) and as many needles and queries
through ``engram_store.encode`` on the reader (one thread per core as the runner sets them) and
prints tokens per text, seconds per text and the needle and distractor entropies.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from memnb.hrs.retrieval import engram_store, haystack, needles


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=100)
    a = ap.parse_args(argv)
    from memnb.models.pretrained import load_reader

    reader = load_reader()
    layer = engram_store.key_layer(reader.model)
    ns = needles.make_needles(a.texts, a.seed)
    sets = {
        "distractor": haystack.places(a.texts, a.seed),
        "needle": [n.text for n in ns],
        "question": [n.question for n in ns],
        "paraphrase": [n.paraphrase for n in ns],
    }
    for name, texts in sets.items():
        ids = engram_store.token_lists(reader.tokenizer, texts)
        t = time.perf_counter()
        enc = engram_store.encode(reader.model, ids, layer=layer, batch_size=a.batch)
        s = time.perf_counter() - t
        print(
            f"{name:>10}: {np.mean([len(x) for x in ids]):.1f} tokens/text, {s / len(texts):.3f} s/text "
            f"(batch {a.batch}), entropy {np.mean(enc.entropy):.2f} bits "
            f"[{np.min(enc.entropy):.2f}, {np.max(enc.entropy):.2f}], > 4 bits: {np.mean(enc.entropy > 4):.2f}"
        )


if __name__ == "__main__":
    main()
