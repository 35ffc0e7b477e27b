"""Reading a rule's measures from a chapter's metrics.

``metrics`` is a chapter's published ``metrics`` dict (``results/<profile>/<chapter>.json``) or
any mapping of metric name to per-seed values. A value may be a number (one value), a list of
per-seed values, or a summary ``{"mean", "ci95", "n", "values": [...]}`` (``memnb.stats.summarize``)
whose ``values`` are the per-seed values; a summary may carry ``"examples"``: one list of
per-example values per seed, for the bootstrap over seeds × examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from memnb.verdicts.rule import Check, Measure


class MissingMetric(KeyError):
    """A metric the rule needs is not in the metrics."""


def values(metrics: Mapping[str, Any], name: str) -> np.ndarray:
    """Per-seed values of one metric (a scalar reads as one value)."""
    if name not in metrics:
        raise MissingMetric(f"metric {name!r} is not in the metrics (the rule reads it)")
    v = metrics[name]
    if isinstance(v, Mapping):
        if "values" in v:
            v = v["values"]
        elif "mean" in v:
            v = [v["mean"]]
        else:
            raise ValueError(f"metric {name!r}: a summary needs 'values', got keys {sorted(v)}")
    arr = np.atleast_1d(np.asarray(v, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"metric {name!r}: expected a number or a list of per-seed numbers, got {v!r}")
    return arr


def series(metrics: Mapping[str, Any], m: Measure) -> np.ndarray:
    """The measure's per-seed series: see ``Measure``."""
    cols = [values(metrics, name) for name in m.metrics]
    if len({c.size for c in cols}) > 1:
        raise ValueError(f"measure {m.text()}: metrics {m.metrics} have different numbers of seeds")
    if m.op == "value":
        return cols[0]
    if m.op == "abs":
        return np.abs(cols[0])
    if m.op == "difference":
        return cols[0] - cols[1]
    stack = np.vstack(cols)
    return stack.max(axis=0) if m.op == "max" else stack.min(axis=0)


def arms(metrics: Mapping[str, Any], m: Measure) -> tuple[np.ndarray, np.ndarray]:
    """The two arms of a ``difference`` measure (unpaired designs)."""
    if m.op != "difference":
        raise ValueError(f"an unpaired design needs a difference of two arms, got {m.op!r}")
    return values(metrics, m.metrics[0]), values(metrics, m.metrics[1])


def examples(metrics: Mapping[str, Any], m: Measure) -> list[np.ndarray]:
    """Per-seed per-example values of the measure (``value`` or paired ``difference``), read
    from the metrics' ``"examples"`` entries."""

    def ex(name: str) -> list[np.ndarray]:
        v = metrics.get(name)
        if not isinstance(v, Mapping) or "examples" not in v:
            raise MissingMetric(f"metric {name!r} has no per-example values ('examples'), which the bootstrap needs")
        return [np.asarray(g, dtype=float) for g in v["examples"]]

    if m.op == "value":
        return ex(m.metrics[0])
    if m.op == "difference":
        a, b = ex(m.metrics[0]), ex(m.metrics[1])
        if [x.shape for x in a] != [x.shape for x in b]:
            raise ValueError(f"measure {m.text()}: paired examples differ in shape between the arms")
        return [x - y for x, y in zip(a, b, strict=True)]
    raise ValueError(f"the bootstrap reads 'value' or 'difference' measures, got {m.op!r}")


def check_holds(metrics: Mapping[str, Any], c: Check) -> np.ndarray:
    """Per seed: does the check hold?"""
    x = series(metrics, c.measure)
    if c.op == ">":
        return x > c.value
    if c.op == ">=":
        return x >= c.value
    if c.op == "<":
        return x < c.value
    if c.op == "<=":
        return x <= c.value
    if c.op == "between":
        return (c.value <= x) & (x <= c.hi)
    if c.relative:
        return np.abs(x / c.value - 1) <= c.tol
    return np.abs(x - c.value) <= c.tol


def checks_hold(metrics: Mapping[str, Any], checks: tuple[Check, ...]) -> np.ndarray:
    """Per seed: do all checks hold? (A scalar metric's check broadcasts over the seeds.)"""
    held = [check_holds(metrics, c) for c in checks]
    sizes = {h.size for h in held} - {1}
    if len(sizes) > 1:
        raise ValueError(f"checks {[c.text() for c in checks]} read metrics with different numbers of seeds")
    return np.logical_and.reduce(np.broadcast_arrays(*held)) if len(held) > 1 else held[0]
