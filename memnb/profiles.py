"""Run profiles: how big a chapter runs.

- ``ci``: seconds per chapter, one seed, tiny sizes; what nbval executes in CI.
- ``cpu`` (default): minutes per chapter on 2 cores, >= 3 seeds where a claim is judged;
  the book's published numbers (``results/cpu/``).
- ``gpu``: full scale on one H100; picks CUDA automatically when present. Never needed by tests.

A chapter's parameters are a ``Preset`` (below): a frozen dataclass whose fields carry their
per-profile defaults (``per_profile``) and are validated when resolved, before anything runs.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin, get_type_hints

import torch

PROFILES = ("ci", "cpu", "gpu")
DEFAULT_PROFILE = "cpu"
DEFAULT_SEEDS = {"ci": [0], "cpu": [0, 1, 2], "gpu": [0, 1, 2, 3, 4]}

T = TypeVar("T")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    return profile


def pick(profile: str, *, ci: T, cpu: T, gpu: T | None = None) -> T:
    """The value for ``profile``; ``gpu`` defaults to the ``cpu`` value."""
    check_profile(profile)
    return {"ci": ci, "cpu": cpu, "gpu": cpu if gpu is None else gpu}[profile]


def resolve_seeds(profile: str, seeds: list[int] | None, defaults: dict[str, list[int]] | None = None) -> list[int]:
    """``seeds`` as given, or the default list: the chapter's (``defaults``, a ``Preset``'s
    ``SEEDS``) where it sets one for ``profile``, else the profile's."""
    check_profile(profile)
    if seeds is None:
        return list((defaults or {}).get(profile, DEFAULT_SEEDS[profile]))
    if isinstance(seeds, int):
        seeds = [seeds]
    if not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of non-negative ints, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    return list(seeds)


def device_for(profile: str) -> torch.device:
    """CUDA for the ``gpu`` profile when a GPU is present; the CPU otherwise."""
    check_profile(profile)
    if profile == "gpu" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


# ---------------------------------------------------------------- presets: a chapter's parameters as data


def per_profile(
    ci: Any,
    cpu: Any,
    gpu: Any = None,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[Any] | None = None,
) -> Any:
    """A ``Preset`` field whose default depends on the profile (``gpu`` falls back to ``cpu``).

    ``low``/``high`` (inclusive) and ``choices`` are checked on the resolved value, and on every
    element when the field is a list.
    """
    values = {"ci": ci, "cpu": cpu, "gpu": cpu if gpu is None else gpu}
    return field(metadata={"per_profile": values, "low": low, "high": high, "choices": choices})


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) if get_origin(tp) is None else str(tp)


def _coerce(name: str, value: Any, tp: Any) -> Any:
    """``value`` as type ``tp`` (int, float, bool, str or list[...] of them), or a one-line error.

    A string is parsed as a Python literal first (papermill ``-p`` and the CLI pass strings):
    ``"3"`` → 3, ``"[1, 2]"`` → [1, 2]; an int is accepted where a float is expected.
    """
    if isinstance(value, str) and tp is not str:
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
    ok = True
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        if isinstance(value, (list, tuple)):
            try:
                return [_coerce(name, v, item) for v in value]
            except ValueError:
                pass
        ok = False
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp in (str, bool):
        ok = isinstance(value, tp)
    else:
        raise TypeError(f"parameter {name}: unsupported preset type {tp!r}")
    if not ok:
        raise ValueError(f"parameter {name}={value!r}: expected {_type_name(tp)}")
    return value


def _check_value(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    for v in value if isinstance(value, list) else [value]:
        if meta["low"] is not None and v < meta["low"]:
            raise ValueError(f"parameter {name}={value!r}: must be >= {meta['low']}")
        if meta["high"] is not None and v > meta["high"]:
            raise ValueError(f"parameter {name}={value!r}: must be <= {meta['high']}")
        if meta["choices"] is not None and v not in meta["choices"]:
            raise ValueError(f"parameter {name}={value!r}: must be one of {', '.join(map(str, meta['choices']))}")


@dataclass(frozen=True)
class Preset:
    """A chapter's parameters: one frozen dataclass per chapter, every field a ``per_profile``.

    ``Preset.resolve(profile, overrides)`` takes each field's value for the profile, replaces
    the ones given in ``overrides`` (``None`` means "the profile's default") and validates all of
    them before anything runs: an unknown name, a wrong type or a value outside a declared range
    is a one-line ``ValueError`` naming the parameter. Subclasses add cross-field checks in
    ``check``. ``as_dict()`` is the chapter's ``params`` record, in field order.

        @dataclass(frozen=True)
        class Baseline(Preset):
            steps: int = per_profile(ci=20, cpu=400, gpu=5000, low=1)

        Baseline.resolve("ci", {"steps": "50"}).steps == 50

    ``SEEDS`` (a class attribute, not a parameter): the chapter's own default seeds per profile,
    where its design needs more than the profile's (``DEFAULT_SEEDS``).
    """

    SEEDS: ClassVar[dict[str, list[int]] | None] = None

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def resolve(cls, profile: str, overrides: Mapping[str, Any] | None = None) -> Self:
        check_profile(profile)
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = [k for k in overrides if k not in cls.names()]
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(cls.names())}")
        hints = get_type_hints(cls)
        values = {}
        for f in fields(cls):
            given = f.name in overrides
            value = overrides[f.name] if given else copy.deepcopy(f.metadata["per_profile"][profile])
            value = _coerce(f.name, value, hints[f.name])
            _check_value(f.name, value, f.metadata)
            values[f.name] = value
        preset = cls(**values)
        preset.check()
        return preset

    def check(self) -> None:
        """Cross-field checks (override in a subclass; raise ``ValueError`` with one line)."""

    def as_dict(self) -> dict[str, Any]:
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)}
