"""The contenders, each in the same decoder at a matched parameter count.

The contenders are every memory of ``memnb.layers.registry`` (``MEMORIES``: the zoo, then
``prefix_memory`` and ``retrieval_context``). ``build_model`` puts one memory in every layer of
``memnb.models.Decoder`` and then sets every block's MLP width d_ff so that the whole model has
as many parameters as the full-attention decoder with ``mlp_ratio = 4``:

    params(d_ff) = P_0 + n_layers · (2 · d · d_ff + d_ff + d)        (P_0: all but the MLPs)
    d_ff = round((P_target − P_0 − n_layers · d) / (n_layers · (2d + 1)))

so every contender is within one MLP unit (2d + 1 parameters per layer) of the target,
whatever its memory costs. The resized MLPs (``memnb.models.block.MLP``, GELU) are initialised
as the decoder's own (N(0, 0.02), the output projection scaled by 1/√(2 · n_layers)).
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.layers import registry
from memnb.layers.registry import MEMORIES, Entry
from memnb.models.block import MLP
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.models.init import gpt2_init

CONTENDERS: dict[str, Entry] = MEMORIES  # every memory of the registry, in its order
TARGET = "attention"  # the model whose parameter count every contender matches


@dataclass(frozen=True)
class ModelConfig:
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    segment_len: int = 16

    def __post_init__(self) -> None:
        if min(self.d_model, self.n_layers, self.n_heads, self.segment_len) < 1:
            raise ValueError(f"every ModelConfig field must be >= 1, got {self}")
        if self.segment_len % 4:
            raise ValueError(f"segment_len must be a multiple of 4 (retrieval chunks), got {self.segment_len}")


def _decoder(name: str, vocab_size: int, cfg: ModelConfig) -> Decoder:
    dec_cfg = DecoderConfig(vocab_size, d_model=cfg.d_model, n_layers=cfg.n_layers, n_heads=cfg.n_heads, mlp_ratio=4)
    return Decoder(dec_cfg, registry.mixer(name, cfg.segment_len))


def matched_d_ff(name: str, vocab_size: int, cfg: ModelConfig) -> int:
    """The MLP width that brings ``name``'s decoder to the target's parameter count."""
    registry.check(name)
    target = _decoder(TARGET, vocab_size, cfg).num_params()
    model = _decoder(name, vocab_size, cfg)
    p0 = model.num_params() - sum(sum(p.numel() for p in b.mlp.parameters()) for b in model.blocks)
    d, n = cfg.d_model, cfg.n_layers
    d_ff = round((target - p0 - n * d) / (n * (2 * d + 1)))
    if d_ff < 1:
        raise ValueError(f"{name}'s memory alone exceeds the target's parameters; raise d_model or n_layers")
    return d_ff


def build_model(name: str, vocab_size: int, cfg: ModelConfig) -> Decoder:
    """``name``'s memory in every layer of a decoder with the target's parameter count."""
    d_ff = matched_d_ff(name, vocab_size, cfg)
    model = _decoder(name, vocab_size, cfg)
    for block in model.blocks:
        block.mlp = MLP(cfg.d_model, d_ff)
        gpt2_init(block.mlp, cfg.n_layers, ("proj.weight",))
    return model
