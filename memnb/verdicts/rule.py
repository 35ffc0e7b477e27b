"""A claim's rule as data: what is measured, how, against what, and how it is decided.

The book's method (book/method.md §3, protocol 2) asks that every ``seed`` and ``audit`` claim
be judged by a rule *written once, as data*, before its results exist, and rendered from that
data into the chapter (never retyped). A ``Rule`` is that data; ``Rule.markdown()`` renders it
and ``Rule.rule_hash()`` fingerprints it (sha256 of its canonical JSON), so the ledger can check
that the rule committed before a run is the one its verdict was judged by.
``memnb.verdicts.engine.judge`` applies it.

Building blocks (all frozen dataclasses, so a rule is immutable and hashable):

- ``Measure``: a per-seed series read from a chapter's published ``metrics`` — one metric, the
  paired difference of two (``a − b`` per seed), the elementwise max/min of several, or ``|a|``;
- ``Check``: a comparison of a measure with a value (``>``, ``<=``, ``between``, ``near`` within a
  tolerance), made on every seed (or on a scalar);
- ``Control``: the positive control — a measure, a comparison and a threshold, with a sentence;
- ``Design``: paired or not, what the arms share, the interval (t over seeds or a bootstrap over
  seeds × examples) and the smallest number of seeds;
- ``Clause``: one conjunction of a decision list (compound protocol-1 rules).

Directions (protocol 2): ``greater`` (Δ > 0, with δ), ``bound`` (Δ ≤ b), ``equivalent``
(|Δ| < δ), ``property`` (something never happens / happens, per seed against a tolerance) and
``check`` (an identity: true or false by construction, checked with a tolerance).

Protocol 1 is the book's first, hand-written rules, kept so that published verdicts stay
reproducible; ``template`` names which (see ``memnb.verdicts.legacy``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

VERDICTS = ("SUPPORTED", "REFUTED", "INCONCLUSIVE", "UNTESTABLE")
# An identity is checked, not judged: the results schema keeps its two verdict words, and the
# ledger reads them as "true by construction" / "false by construction".
CHECK_TRUE, CHECK_FALSE = "SUPPORTED", "REFUTED"
CHECK_VERDICTS = (CHECK_TRUE, CHECK_FALSE)
KINDS = ("seed", "audit", "identity")
DIRECTIONS = ("greater", "bound", "equivalent", "property", "check")
TEMPLATES = ("all_seeds_beyond", "all_or_none_seeds", "equivalence_margin", "compound")
COMBINE = ("all", "any", "unanimous", "decision", "tested")
MEASURE_OPS = ("value", "difference", "max", "min", "abs")
CHECK_OPS = (">", ">=", "<", "<=", "between", "near")
CONTROL_ON = ("every_seed", "mean", "ci", "every_seed_and_ci")
INTERVALS = ("t", "bootstrap")


@dataclass(frozen=True)
class Measure:
    """A per-seed series from published metrics.

    ``op``: ``value`` → ``m[a]``; ``difference`` → ``m[a] − m[b]`` per seed (paired arms);
    ``max`` / ``min`` → elementwise over the named metrics; ``abs`` → ``|m[a]|``.
    A scalar metric reads as one value; a ``{"values": [...]}`` summary as its per-seed values.
    """

    metrics: tuple[str, ...]
    op: str = "value"
    units: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.metrics, str):
            object.__setattr__(self, "metrics", (self.metrics,))
        if self.op not in MEASURE_OPS:
            raise ValueError(f"measure op must be one of {MEASURE_OPS}, got {self.op!r}")
        need = {"value": 1, "difference": 2, "abs": 1}.get(self.op)
        if need is not None and len(self.metrics) != need:
            raise ValueError(f"measure {self.op!r} takes {need} metric(s), got {self.metrics}")
        if not self.metrics:
            raise ValueError("a measure needs at least one metric")

    def text(self) -> str:
        """The measure in words: its label, else its formula over metric names."""
        if self.label:
            return self.label
        m = [f"`{x}`" for x in self.metrics]
        return {
            "value": m[0],
            "difference": f"{m[0]} − {m[-1]}",
            "abs": f"|{m[0]}|",
            "max": f"max({', '.join(m)})",
            "min": f"min({', '.join(m)})",
        }[self.op]


def measure(metric: str | Measure, units: str = "", label: str = "") -> Measure:
    """``Measure`` of one metric (a ``Measure`` passes through)."""
    return metric if isinstance(metric, Measure) else Measure((metric,), "value", units, label)


def diff(a: str, b: str, units: str = "", label: str = "") -> Measure:
    """Paired difference ``a − b`` per seed."""
    return Measure((a, b), "difference", units, label)


@dataclass(frozen=True)
class Check:
    """``measure op value`` on every seed. ``between``: ``value ≤ x ≤ hi``; ``near``:
    ``|x − value| ≤ tol``, or ``|x/value − 1| ≤ tol`` when ``relative``."""

    measure: Measure
    op: str
    value: float
    hi: float | None = None
    tol: float | None = None
    relative: bool = False

    def __post_init__(self) -> None:
        if self.op not in CHECK_OPS:
            raise ValueError(f"check op must be one of {CHECK_OPS}, got {self.op!r}")
        if self.op == "between" and (self.hi is None or self.hi < self.value):
            raise ValueError("a 'between' check needs hi >= value")
        if self.op == "near" and (self.tol is None or self.tol < 0):
            raise ValueError("a 'near' check needs a tolerance tol >= 0")

    def text(self) -> str:
        x = self.measure.text()
        if self.op == "between":
            return f"{self.value:g} ≤ {x} ≤ {self.hi:g}"
        if self.op == "near":
            return (
                f"|{x}/{self.value:g} − 1| ≤ {self.tol:g}"
                if self.relative
                else f"|{x} − {self.value:g}| ≤ {self.tol:g}"
            )
        return f"{x} {self.op.replace('>=', '≥').replace('<=', '≤')} {self.value:g}"


@dataclass(frozen=True)
class Control:
    """Positive control: ``measure op threshold``, judged ``on`` every seed, on the mean, on the
    whole 95% CI, or (protocol 1) on every seed and the whole CI (``memnb.stats.verdict``)."""

    measure: Measure
    op: str
    threshold: float
    sentence: str
    on: str = "every_seed"

    def __post_init__(self) -> None:
        if self.op not in (">", ">=", "<", "<="):
            raise ValueError(f"control op must be one of >, >=, <, <=; got {self.op!r}")
        if self.on not in CONTROL_ON:
            raise ValueError(f"control 'on' must be one of {CONTROL_ON}, got {self.on!r}")
        if not self.sentence:
            raise ValueError("a control needs its sentence (what it shows)")

    def text(self) -> str:
        where = {
            "every_seed": "on every seed",
            "mean": "on the mean over seeds",
            "ci": "over the whole 95% CI",
            "every_seed_and_ci": "on every seed and over the whole 95% CI",
        }[self.on]
        op = self.op.replace(">=", "≥").replace("<=", "≤")
        return f"{self.sentence}: {self.measure.text()} {op} {self.threshold:g} {where}"


@dataclass(frozen=True)
class Design:
    """How Δ's interval is formed. ``paired``: the per-seed differences are the unit (arms share
    ``pairs``: seed, batches, evaluation examples); otherwise two arms, Welch interval.
    ``interval``: ``t`` over seeds, or ``bootstrap`` over seeds × examples (needs per-example
    values under ``"examples"`` in the metric). ``n_min``: fewest seeds the design accepts."""

    paired: bool = True
    pairs: str = "same seed, data order and evaluation examples"
    interval: str = "t"
    n_min: int = 3
    n_boot: int = 10_000
    boot_seed: int = 0

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise ValueError(f"design interval must be one of {INTERVALS}, got {self.interval!r}")
        if self.n_min < 1:
            raise ValueError("n_min must be >= 1")

    def text(self) -> str:
        if self.interval == "bootstrap":
            how = f"95% percentile bootstrap over seeds × examples ({self.n_boot} replicates, seed {self.boot_seed})"
        elif self.paired:
            how = "95% t-interval of the per-seed paired differences"
        else:
            how = "95% Welch t-interval of the difference of the arms' means"
        pairs = f"paired ({self.pairs})" if self.paired else "unpaired arms"
        return f"{pairs}; {how}; at least {self.n_min} seeds"


@dataclass(frozen=True)
class Clause:
    """One conjunction of a decision list: every named part's verdict is one of those listed."""

    requires: tuple[tuple[str, tuple[str, ...]], ...]

    def text(self) -> str:
        return " and ".join(f"{name} is {' or '.join(vs)}" for name, vs in self.requires)


def clause(**parts: str | tuple[str, ...]) -> Clause:
    """``clause(a="SUPPORTED", b=("SUPPORTED", "INCONCLUSIVE"))``."""
    return Clause(tuple((k, (v,) if isinstance(v, str) else tuple(v)) for k, v in parts.items()))


@dataclass(frozen=True)
class Rule:
    """The rule of one claim (or of one part of a compound claim).

    Protocol 2 fields: ``direction``; ``measure`` (Δ, signed so that positive means "as the seed
    says", with units); ``design``; ``control``; ``delta`` (> 0, with ``delta_why``); ``bound``
    (bound claims, with ``bound_why``); ``happens`` and ``tolerance`` (property claims: the claim
    is that something happens / never happens, an occurrence being ``|x| > tolerance`` on a
    seed); ``checks`` (identity checks); ``parts`` (compound: verdict = the weakest part's);
    ``comparisons`` (best-of-K: pairwise paired differences, Holm-corrected at ``alpha``).

    Protocol 1 fields (``template``): ``threshold`` and ``side`` (``all_seeds_beyond``), ``checks``
    (``all_or_none_seeds``), ``threshold`` as the margin (``equivalence_margin``), ``parts`` with
    ``combine`` and, for ``combine="decision"``, ``supported_if`` / ``refuted_if`` (compound).
    ``control`` in protocol 1 is a gate: when it fails the (part's) verdict is INCONCLUSIVE.
    """

    id: str
    kind: str = "seed"
    direction: str = "greater"
    protocol: int = 2
    template: str = ""
    seed_says: str = ""
    measure: Measure | None = None
    design: Design = field(default_factory=Design)
    control: Control | None = None
    delta: float | None = None
    delta_why: str = ""
    bound: float | None = None
    bound_why: str = ""
    happens: bool = False
    tolerance: float = 0.0
    checks: tuple[Check, ...] = ()
    threshold: float = 0.0
    side: str = "above"
    parts: tuple[tuple[str, Rule], ...] = ()
    combine: str = "all"
    supported_if: tuple[Clause, ...] = ()
    refuted_if: tuple[Clause, ...] = ()
    comparisons: tuple[Measure, ...] = ()
    alpha: float = 0.05
    evidence: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("checks", "parts", "supported_if", "refuted_if", "comparisons", "evidence"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if any(not (isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Rule)) for p in self.parts):
            raise TypeError(f"rule {self.id!r}: parts are (name, Rule) pairs")
        _validate(self)

    # --- data ----------------------------------------------------------------------------------
    @property
    def is_compound(self) -> bool:
        return bool(self.parts)

    def part(self, name: str) -> Rule:
        return dict(self.parts)[name]

    def metric_names(self) -> list[str]:
        """Every metric the rule reads (the claim's evidence), then ``evidence`` extras, in order."""
        names: list[str] = []
        for m in self._measures():
            names += [x for x in m.metrics if x not in names]
        return names + [x for x in self.evidence if x not in names]

    def _measures(self) -> list[Measure]:
        out = [self.measure] if self.measure else []
        out += [c.measure for c in self.checks] + list(self.comparisons)
        if self.control:
            out.append(self.control.measure)
        for _, p in self.parts:
            out += p._measures()
        return out

    def data(self) -> dict:
        """The rule as plain JSON data (what the hash is taken of)."""
        return dataclasses.asdict(self)

    def canonical_json(self) -> str:
        return json.dumps(self.data(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def rule_hash(self) -> str:
        """sha256 of the canonical JSON of the rule's data: same data, same hash."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    # --- text ----------------------------------------------------------------------------------
    def markdown(self) -> str:
        """The rule rendered for a chapter's text (written before the run)."""
        from memnb.verdicts.render import rule_markdown

        return rule_markdown(self)

    def sentence(self) -> str:
        """The rule in one paragraph (the ``rule`` string of a claim entry)."""
        from memnb.verdicts.render import rule_sentence

        return rule_sentence(self)


def _validate(r: Rule) -> None:
    where = f"rule {r.id!r}"
    if r.kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}, got {r.kind!r}")
    if r.direction not in DIRECTIONS:
        raise ValueError(f"{where}: direction must be one of {DIRECTIONS}, got {r.direction!r}")
    if r.protocol not in (1, 2):
        raise ValueError(f"{where}: protocol must be 1 or 2, got {r.protocol!r}")
    if r.combine not in COMBINE:
        raise ValueError(f"{where}: combine must be one of {COMBINE}, got {r.combine!r}")
    names = [n for n, _ in r.parts]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: part names repeat: {names}")
    for c in (*r.supported_if, *r.refuted_if):
        unknown = [n for n, _ in c.requires if n not in names]
        if unknown:
            raise ValueError(f"{where}: decision clause names unknown parts {unknown}")
        bad = [v for _, vs in c.requires for v in vs if v not in VERDICTS]
        if bad:
            raise ValueError(f"{where}: decision clause names unknown verdicts {bad}")
    if (r.combine == "decision") != bool(r.supported_if or r.refuted_if):
        raise ValueError(f"{where}: supported_if / refuted_if clauses go with combine='decision', and only with it")
    if r.protocol == 1:
        _validate_legacy(r, where)
    else:
        _validate_p2(r, where)


def _validate_legacy(r: Rule, where: str) -> None:
    if r.template not in TEMPLATES:
        raise ValueError(f"{where}: protocol-1 template must be one of {TEMPLATES}, got {r.template!r}")
    if r.template == "compound" and not r.parts:
        raise ValueError(f"{where}: a compound template needs parts")
    if r.template in ("all_seeds_beyond", "equivalence_margin") and r.measure is None:
        raise ValueError(f"{where}: template {r.template!r} needs a measure")
    if r.template == "all_seeds_beyond" and r.side not in ("above", "below"):
        raise ValueError(f"{where}: side must be 'above' or 'below', got {r.side!r}")
    if r.template == "equivalence_margin" and r.threshold <= 0:
        raise ValueError(f"{where}: an equivalence margin must be > 0")
    if r.template == "all_or_none_seeds" and not r.checks:
        raise ValueError(f"{where}: template 'all_or_none_seeds' needs checks")
    if any(p.protocol != 1 for _, p in r.parts):
        raise ValueError(f"{where}: parts of a protocol-1 rule are protocol 1 too")


def _validate_p2(r: Rule, where: str) -> None:
    if r.template:
        raise ValueError(f"{where}: templates are protocol 1; protocol 2 states the direction")
    if r.kind == "identity" or r.direction == "check":
        if not (r.kind == "identity" and r.direction == "check" and r.checks):
            raise ValueError(f"{where}: identity claims are checks: kind 'identity', direction 'check', checks")
        return
    if r.parts:
        if r.combine not in ("all", "tested"):
            raise ValueError(
                f"{where}: a protocol-2 compound claim takes its weakest part (combine='all'), or its weakest "
                "testable part (combine='tested')"
            )
        if r.control is None and any(p.control is None for _, p in r.parts):
            raise ValueError(f"{where}: every part needs a positive control (or the claim one)")
        if any(p.protocol != 2 for _, p in r.parts):
            raise ValueError(f"{where}: parts of a protocol-2 rule are protocol 2 too")
        return
    if r.control is None:
        raise ValueError(f"{where}: protocol 2 needs a positive control")
    if r.direction in ("greater", "equivalent"):
        if r.delta is None or r.delta <= 0 or not r.delta_why:
            raise ValueError(f"{where}: a {r.direction} claim needs delta > 0 with its justification (delta_why)")
    if r.direction == "bound" and (r.bound is None or not r.bound_why):
        raise ValueError(f"{where}: a bound claim needs its bound b with its justification (bound_why)")
    if r.direction == "property" and r.tolerance < 0:
        raise ValueError(f"{where}: a property's tolerance must be >= 0")
    if r.comparisons:
        if r.direction != "greater":
            raise ValueError(f"{where}: best-of-K comparisons are directional (direction 'greater')")
    elif r.measure is None:
        raise ValueError(f"{where}: a {r.direction} claim needs a measure")
