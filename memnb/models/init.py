"""GPT-2's weight initialisation (Radford et al. 2019, §2.3; nanoGPT's ``_init_weights``).

    W ~ N(0, 0.02²) for every Linear and Embedding weight, b = 0 for every Linear bias;
    W_res ~ N(0, (0.02 / √(2·n_layers))²) for the projections that write into the residual stream

(two residual writes per block, so the stream's variance stays O(1) with depth). LayerNorms
keep PyTorch's init (γ = 1, β = 0); other parameters (learned memory inits, gates) keep the
init their layer gives them. Both passes walk the modules in registration order, so a model
built in the same order draws the same numbers.
"""

from __future__ import annotations

import torch.nn as nn


def normal_init(module: nn.Module) -> None:
    """N(0, 0.02²) weight and zero bias for one Linear or Embedding (use with ``model.apply``)."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def scale_residual(model: nn.Module, n_layers: int, suffixes: tuple[str, ...]) -> None:
    """Re-draw every parameter whose name ends with one of ``suffixes`` from N(0, (0.02/√(2·n_layers))²)."""
    for name, p in model.named_parameters():
        if name.endswith(suffixes):
            nn.init.normal_(p, 0.0, 0.02 / (2 * n_layers) ** 0.5)


def gpt2_init(model: nn.Module, n_layers: int, residual: tuple[str, ...]) -> None:
    """``normal_init`` on every module, then ``scale_residual`` on the ``residual`` projections."""
    model.apply(normal_init)
    scale_residual(model, n_layers, residual)
