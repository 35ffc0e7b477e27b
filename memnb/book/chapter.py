"""A chapter's run: its profile, seeds, resolved parameters, metrics and claim verdicts.

A notebook's ``parameters`` cell holds only ``profile``, ``seeds`` and ``overrides``; the cell
after it calls ``ch = Chapter.open(name, profile, seeds, overrides)``, which resolves the chapter's
``Preset`` (``memnb.book.presets``), applies the house plot style, seeds, and prints one summary
line. Before its experiments the notebook registers its verdict rules (``ch.rules(RULES)``, from
its project's ``rules.py``); it records what it measures (``ch.metric``), judges the rules on those
metrics (``ch.judge()``) and calls ``publish()`` at the end. When the
runner (``python -m memnb run``) executes the notebook it sets ``MEMNB_RESULTS_STAGING`` to a
temp path; ``publish`` writes the chapter's record there and the runner adds ``env``/``wall_s`` and moves it to
``results/<profile>/<chapter>.json`` only if every cell succeeded. Run interactively (or by
nbval), ``publish`` writes nothing and just returns the record.
"""

from __future__ import annotations

import ast
import json
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from memnb import plotting, profiles, stats
from memnb.book.presets import preset_class
from memnb.cache import ROOT, atomic_write_json
from memnb.seeding import seed_everything

STAGING_ENV = "MEMNB_RESULTS_STAGING"
# Schema 2 (protocol 2): every claim carries kind, control, effect, delta and its rule hash. A
# chapter whose claims are still judged by protocol-1 rules (no control, no delta) writes
# schema 1 (the engine's extra fields included), so no reader takes it for a protocol-2 record.
SCHEMA = 2
LEGACY_SCHEMA = 1


@dataclass
class Chapter:
    """Resolved run settings plus the results being collected.

    ``preset`` is the chapter's validated ``Preset`` (its fields are ``params``, also read as
    ``ch["steps"]``); ``seeds=None`` means the profile's default seeds.
    """

    name: str
    profile: str = profiles.DEFAULT_PROFILE
    seeds: list[int] | None = None
    preset: profiles.Preset | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    claims: list[dict] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)  # wall-clock figures: not deterministic

    def __post_init__(self) -> None:
        profiles.check_profile(self.profile)
        defaults = getattr(type(self.preset), "SEEDS", None) if self.preset is not None else None
        self.seeds = profiles.resolve_seeds(self.profile, self.seeds, defaults)
        self.params: dict[str, Any] = self.preset.as_dict() if self.preset is not None else {}
        self.device = profiles.device_for(self.profile)

    @classmethod
    def open(
        cls,
        name: str,
        profile: str = profiles.DEFAULT_PROFILE,
        seeds: list[int] | None = None,
        overrides: Mapping[str, Any] | str | None = None,
        *,
        preset: type[profiles.Preset] | None = None,
    ) -> Chapter:
        """A chapter's setup cell: resolve its preset for ``profile`` with ``overrides`` (names
        from ``memnb.book.presets``; a string, as papermill ``-p`` passes it, is read as a
        literal, and so are string ``seeds``; a parameter papermill injected by its own name,
        ``papermill ... -p steps 800``, counts as an override too), apply the house plot style,
        seed every RNG with the first seed, and print ``profile=… seeds=… device=… params=…``.
        Any bad setting raises before anything runs."""
        if isinstance(overrides, str):
            overrides = ast.literal_eval(overrides)
        if isinstance(seeds, str):
            seeds = ast.literal_eval(seeds)
        overrides = {**papermill_parameters(), **(overrides or {})}
        preset_cls = preset if preset is not None else preset_class(name)
        ch = cls(name, profile, seeds, preset_cls.resolve(profile, overrides))
        plotting.use_style()
        seed_everything(ch.seeds[0], threads=None)
        print(ch.summary())
        return ch

    def summary(self) -> str:
        """The one-line settings of this run."""
        return f"profile={self.profile} seeds={self.seeds} device={self.device} params={self.params}"

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def metric(self, name: str, value: float | Sequence[float]) -> Any:
        """Record a scalar, or a per-seed list summarised as mean ± 95% CI."""
        if isinstance(value, numbers.Integral):
            self.metrics[name] = int(value)
        elif isinstance(value, numbers.Real):
            self.metrics[name] = round(float(value), 6)
        else:
            self.metrics[name] = stats.summarize(value)
        return self.metrics[name]

    def rules(self, rules) -> Any:
        """Register the chapter's rules (a ``RULES`` dict from its project's ``rules.py``) and
        return their text for display: the cell that shows each rule before any result exists."""
        from IPython.display import Markdown

        from memnb.verdicts import rules_markdown

        rules = dict(rules)
        registered = getattr(self, "_rules", {})
        clash = [i for i, r in rules.items() if i in registered and registered[i].rule_hash() != r.rule_hash()]
        if clash:
            raise ValueError(f"{self.name}: {clash} already registered with another rule; a rule is written once")
        self._rules = registered | rules  # a chapter may register its rules section by section
        return Markdown(rules_markdown(rules))

    def judge(self, ids: Sequence[str] | None = None) -> Any:
        """Apply the registered rules (all, or ``ids``) to the recorded metrics; the entries become
        the chapter's claims. Returns them as a table (findings first, identities apart)."""
        from memnb.verdicts import claims_table, judge

        rules = getattr(self, "_rules", None)
        if not rules:
            raise ValueError(f"{self.name}: no rules registered; call ch.rules(RULES) before the run")
        chosen = list(rules) if ids is None else list(ids)
        unknown = [i for i in chosen if i not in rules]
        if unknown:
            raise ValueError(f"{self.name}: no registered rule for {unknown}; registered: {sorted(rules)}")
        entries = [judge(rules[i], self.metrics) for i in chosen]
        for e in entries:  # a metric the rule reads is already required by the engine; evidence it only
            # lists may be absent at a smaller profile (e.g. a task the ci profile does not run)
            e["evidence"] = [m for m in e.get("evidence", []) if m in self.metrics]
        done = {e["id"] for e in entries}
        self.claims = [c for c in self.claims if c["id"] not in done] + entries
        return claims_table(entries)

    def schema(self) -> int:
        """2 when every claim was judged under protocol 2 (identities included), else 1."""
        p2 = all(c.get("protocol") == 2 for c in self.claims)
        return SCHEMA if p2 else LEGACY_SCHEMA

    def record(self) -> dict:
        return {
            "schema": self.schema(),
            "chapter": self.name,
            "profile": self.profile,
            "seeds": self.seeds,
            "params": self.params,
            "metrics": self.metrics,
            "claims": self.claims,
            "timings": self.timings,
        }

    def publish(self) -> dict:
        """Hand the record to the runner (if running under it) and return it."""
        rec = self.record()
        json.dumps(rec, allow_nan=False)  # fail here, not in the runner, on NaN or objects
        staging = os.environ.get(STAGING_ENV)
        if staging:
            atomic_write_json(staging, rec)
        return rec


PARAMETERS_CELL = ("profile", "seeds", "overrides")


def papermill_parameters() -> dict[str, Any]:
    """Names papermill injected into this kernel (its cell starts ``# Parameters``) other than the
    parameters cell's own: ``papermill ... -p steps 800`` gives ``{"steps": 800}``, so that it is
    validated and applied like ``-p steps 800`` of the runner rather than silently ignored."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    out: dict[str, Any] = {}
    for source in shell.user_ns.get("In", []) if shell is not None else []:
        if not source.startswith("# Parameters\n"):
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id not in PARAMETERS_CELL:
                    out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def env_info() -> dict:
    """Provenance added by the runner: package versions, device, git commit."""
    import subprocess

    import memnb

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {"memnb": memnb.__version__, "torch": torch.__version__, "device": device, "commit": commit}
