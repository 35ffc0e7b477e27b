"""A KV-cache adapter: the frozen ``transformers`` backbone as a *stateful* memnb model.

``memnb.eval.sampling.sample`` feeds a stateful model only the newest token, with the state carrying
the past; a stateless one (``models.backbone.CausalLM``) is re-fed its whole context every step.
Here the state is the attention KV cache (``past_key_values``), so each step costs one token
instead of the whole window. Same distribution as ``CausalLM``: the logits agree to float
rounding (tested), for sequences within the model's ``max_context`` positions.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class CachedLM(nn.Module):
    """``(idx, state) -> (logits, state)`` with ``state`` = the model's ``past_key_values``."""

    def __init__(self, hf_model: nn.Module) -> None:
        super().__init__()
        self.hf = hf_model
        self.max_context = int(hf_model.config.n_positions)
        self.train(hf_model.training)  # ``sample`` restores this mode afterwards: keep a frozen model in eval

    def forward(self, idx: torch.Tensor, state=None):
        seen = 0 if state is None else state.get_seq_length()
        if seen + idx.shape[1] > self.max_context:
            raise ValueError(
                f"sequence of {seen + idx.shape[1]} tokens exceeds the model's {self.max_context} positions; "
                "use a shorter context, prompt or continuation"
            )
        out = self.hf(input_ids=idx, past_key_values=state, use_cache=True)
        return out.logits, out.past_key_values
