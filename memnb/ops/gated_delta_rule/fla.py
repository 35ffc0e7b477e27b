"""Gated delta rule on CUDA through fla-core's ``chunk_gated_delta_rule`` (Triton kernels).

Same recurrence and layout as ``naive.py`` (memnb follows fla's conventions, so no argument is
reshaped). Keyword arguments only: fla's own functions disagree on the positional order of
``g`` and ``beta``.
"""

from __future__ import annotations

import importlib.util

import torch

AVAILABLE = importlib.util.find_spec("fla") is not None and torch.cuda.is_available()


def fla_gated_delta_rule(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    if importlib.util.find_spec("fla") is None:
        raise RuntimeError(
            "impl='fla' needs fla-core: pip install --no-deps fla-core==0.6.0 einops packaging (or use impl='chunked')"
        )
    if not q.is_cuda:
        raise RuntimeError(
            "impl='fla' runs fla-core's Triton kernels, which need CUDA tensors; move the inputs "
            "to a GPU or use impl='chunked' on CPU"
        )
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule

    return chunk_gated_delta_rule(
        q=q,
        k=k,
        v=v,
        g=g,
        beta=beta,
        scale=scale,
        initial_state=None if initial_state is None else initial_state.float(),
        output_final_state=output_final_state,
    )
