"""The small frozen backbone: a GPT-2-style ``transformers`` model trained here, once.

Later chapters need a pretrained causal LM to attach memory to (AMS's prefix injection) and to
generate text for MAUVE (HRS). No pretrained weights may be downloaded, so the book trains its
own: ``transformers.GPT2LMHeadModel`` (Radford et al. 2019: learned absolute positions,
pre-LayerNorm blocks, GELU MLP, tied LM head) on the Shakespeare training split with the
book's byte-level BPE, seed 0. It is cached under ``data/cache/backbone/<config hash>/`` in
the ``save_pretrained`` format and loaded frozen (``eval()``, no gradients).

This module holds the architecture; ``memnb.train.backbone.load_backbone(profile)`` returns the
cached model or trains it first ("load a checkpoint if present, else train", as in
uvadlc_notebooks), so any chapter can rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from memnb import profiles
from memnb.seeding import seed_everything


@dataclass(frozen=True)
class BackboneConfig:
    n_layer: int
    n_embd: int
    n_head: int
    n_positions: int
    bpe_vocab: int
    seq_len: int
    batch_size: int
    steps: int
    lr: float
    seed: int = 0


BACKBONES = {
    "ci": BackboneConfig(
        n_layer=2, n_embd=64, n_head=2, n_positions=128, bpe_vocab=1024, seq_len=64, batch_size=8, steps=30, lr=3e-3
    ),
    "cpu": BackboneConfig(
        n_layer=4,
        n_embd=128,
        n_head=4,
        n_positions=512,
        bpe_vocab=4096,
        seq_len=128,
        batch_size=16,
        steps=1000,
        lr=2e-3,
    ),
    "gpu": BackboneConfig(
        n_layer=8,
        n_embd=512,
        n_head=8,
        n_positions=1024,
        bpe_vocab=4096,
        seq_len=512,
        batch_size=32,
        steps=8000,
        lr=6e-4,
    ),
}


class CausalLM(nn.Module):
    """Adapter giving a ``transformers`` causal LM the memnb interface ``(idx, state) -> (logits, state)``.

    It is stateless (``state`` is always ``None``): each call sees only ``idx``, at most
    ``max_context`` tokens (the model's learned positions), and the sampler (``memnb.eval.sampling``)
    re-feeds it its context, cut to the ``max_context`` most recent tokens.
    """

    def __init__(self, hf_model: nn.Module) -> None:
        super().__init__()
        self.hf = hf_model
        self.max_context = int(hf_model.config.n_positions)

    def forward(self, idx: torch.Tensor, state=None):
        return self.hf(input_ids=idx).logits, None


def gpt2(cfg: BackboneConfig, vocab_size: int, eos_id: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    conf = GPT2Config(
        vocab_size=vocab_size,
        n_positions=cfg.n_positions,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(conf)


def untrained_backbone(profile: str = profiles.DEFAULT_PROFILE, *, seed: int = 0):
    """The backbone's architecture at random initialisation (``seed``), frozen: a control for
    anything that attributes an effect to what the backbone learned."""
    from memnb.data import tokenizers

    cfg = BACKBONES[profiles.check_profile(profile)]
    tok = tokenizers.get_tokenizer("bpe", cfg.bpe_vocab)
    seed_everything(seed)
    model = gpt2(cfg, tok.vocab_size, tok.eos_id).eval()
    model.requires_grad_(False)
    return model, tok
