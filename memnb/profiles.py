"""Run profiles: how big a chapter runs.

- ``ci``: seconds per chapter, one seed, tiny sizes; what nbval executes in CI.
- ``cpu`` (default): minutes per chapter on 2 cores, >= 3 seeds where a claim is judged;
  the book's published numbers (``results/cpu/``).
- ``gpu``: full scale on one H100; picks CUDA automatically when present. Never needed by tests.
"""

from __future__ import annotations

from typing import TypeVar

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


def resolve_seeds(profile: str, seeds: list[int] | None) -> list[int]:
    """``seeds`` as given, or the profile's default list."""
    check_profile(profile)
    if seeds is None:
        return list(DEFAULT_SEEDS[profile])
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
