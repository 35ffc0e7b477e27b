"""Zoology's published MQAR figures: the external anchor of chapter 50.

Source: Arora et al. 2023, "Zoology: Measuring and Improving Recall in Efficient Language
Models", and its public repository HazyResearch/zoology (README and
``experiments/paper_configs/iclr24_zoology_figure2/``), read 2026-12-02 (snapshot d88d6f5); the
facts and how they were read are in book/appendix/zoology.md. Every figure below was read off a
plot (a PNG), so it is approximate; none is a number a table of theirs prints.

Their setting is not ours: V = 8192, 100k training examples, 64 epochs, a learning-rate sweep per
model (best kept), batch 256–512. These points say where a fully trained model of each class
lands; ours say where the same classes land on a CPU budget. They are drawn beside each other,
never pooled, and no verdict reads them.

``STATE_CURVE``: the README's recall-against-state-size plot (a newer sweep, with DeltaNet-family
models): (model, state size, accuracy). Zoology's "state size" counts the floats of recurrent
state per sequence, the unit chapter 50 uses. ``FIGURE2``: the paper's Figure 2 at d_model = 64
(accuracy per sequence length; attention at every width from 64 up).
"""

from __future__ import annotations

import pandas as pd

SOURCE_STATE = "Zoology README, recall vs state size (plot)"
SOURCE_FIG2 = "Zoology paper, Figure 2 (plot)"

STATE_CURVE: tuple[tuple[str, float, float], ...] = (
    ("DeltaNet", 9e3, 0.79),
    ("DeltaNet", 1.3e5, 0.99),
    ("Gated DeltaNet", 1.7e4, 0.89),
    ("Gated DeltaNet", 6.6e4, 0.99),
    ("GLA", 4.6e3, 0.53),
    ("GLA", 7e4, 0.95),
    ("Mamba-2", 8e3, 0.52),
    ("Mamba-2", 1e5, 0.85),
)

FIGURE2: tuple[tuple[str, int, float], ...] = (  # (model, seq_len, accuracy) at d_model = 64
    ("attention", 64, 0.98),
    ("attention", 128, 0.98),
    ("attention", 256, 0.98),
    ("H3", 64, 0.90),
    ("RWKV", 64, 0.74),
    ("BaseConv", 64, 0.69),
    ("Hyena", 64, 0.51),
)
FIGURE2_RANGES = {  # the same figure's gated-convolution / recurrent models, as a range
    128: (0.18, 0.37),
    256: (0.0, 0.15),
}

# which of our contenders each published model class corresponds to (for the figure's colours)
OURS = {"Gated DeltaNet": "gated_delta_rule", "Mamba-2": "mamba2", "attention": "attention"}


def state_curve() -> pd.DataFrame:
    """The state-size points as a table: model, state_floats, state_bytes (fp32), accuracy, source."""
    df = pd.DataFrame(STATE_CURVE, columns=["model", "state_floats", "accuracy"])
    df["state_bytes"] = 4 * df.state_floats
    df["source"] = SOURCE_STATE
    return df


def figure2() -> pd.DataFrame:
    """Figure 2's points at d_model = 64: model, seq_len, accuracy, source."""
    df = pd.DataFrame(FIGURE2, columns=["model", "seq_len", "accuracy"])
    df["source"] = SOURCE_FIG2
    return df
