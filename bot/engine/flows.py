"""Flow definitions: reading `flows/*.yaml`, checking them, and the loaded `Flows`.

A flow is `id`, `intent`, `start`, optional `privacy: true` (the privacy notice must be
accepted before its first step) and `steps`. Each step has a `kind`:

    message   say, next                      input kinds: say, save_as, next, optional,
    choice    + options [{value, label,        retry, skip_if, privacy
                match, next, range}], prefill_from_text, reroute (a choice step an answer here
                may be meant for: "menaje" at "anything else?" picks that topic)
    yes_no, consent  + branches {yes, no}    text, number (+min, max), location, time,
    branch    on, cases {value: step}, next  phone, dob, a_number, media, date (a coming
    end       say (opens a case)             one), appointment (offers free consultation
    done  say (back to the menu, no case)    slots through `Context.appointments`)

Any mistake stops loading with `FlowSpecError("<file>: step '<id>': <reason>")`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from bot import i18n
from bot.engine.match import Choice, build_choice
from bot.engine.text import normalize
from bot.engine.validate import check_flow
from bot.errors import FlowSpecError
from bot.i18n import ROOT, Catalog
from bot.types import INTENTS, LANGS, Intent

FLOWS_DIR: Final = ROOT / "flows"
_COMMON: Final = {"kind", "say", "next", "privacy"}
_INPUT: Final = _COMMON | {"save_as", "optional", "retry", "skip_if"}
ALLOWED: Final[Mapping[str, frozenset[str]]] = {
    "message": frozenset(_COMMON),
    "choice": frozenset(_INPUT | {"options", "prefill_from_text", "reroute"}),
    "yes_no": frozenset(_INPUT | {"branches", "prefill_yes"}),
    "consent": frozenset(_INPUT | {"branches"}),
    "number": frozenset(_INPUT | {"min", "max", "prefill_yes"}),
    "branch": frozenset({"kind", "on", "cases", "next"}),
    "appointment": frozenset(_INPUT),
    "end": frozenset({"kind", "say", "privacy"}),
    "done": frozenset({"kind", "say"}),
    **{
        k: frozenset(_INPUT)
        for k in ("text", "location", "time", "phone", "dob", "a_number", "media", "date")
    },
}
_FLOW_KEYS: Final = {"id", "intent", "start", "privacy", "case_first", "steps", "description"}


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: `yes`, `no` and `on` stay strings (branch names, a field name)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option of a choice step."""

    value: str
    label: str
    match: tuple[str, ...] = ()
    next: str | None = None
    range: tuple[int, int] | None = None  # a number said in the answer within it picks this


@dataclass(frozen=True, slots=True, eq=False)
class StepSpec:
    """One step of a flow, as written in YAML."""

    id: str
    kind: str
    say: tuple[str, ...] = ()
    next: str | None = None
    save_as: str | None = None
    optional: bool = False
    privacy: bool = False
    retry: str | None = None
    skip_if: tuple[str, ...] = ()
    options: tuple[OptionSpec, ...] = ()
    branches: Mapping[str, str] = field(default_factory=dict)
    on: str | None = None
    prefill_from_text: bool = False
    prefill_yes: tuple[str, ...] = ()  # normalised phrases: a first message holding one = yes
    reroute: str | None = None
    low: int = 0
    high: int = 999

    def targets(self) -> tuple[str, ...]:
        """Every step this one can lead to."""
        found = [self.next, *self.branches.values(), *(o.next for o in self.options)]
        return tuple(t for t in found if t)

    def keys(self) -> tuple[str, ...]:
        """The catalog keys this step says."""
        return (*self.say, *(o.label for o in self.options), *((self.retry,) if self.retry else ()))


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """A whole flow: where it starts, what it opens a case as, its steps."""

    id: str
    intent: Intent
    start: str
    steps: Mapping[str, StepSpec]
    privacy: bool = False
    source: str = ""
    case_first: bool = False  # a report: its case opens at the first message, not at the end


@dataclass(frozen=True, slots=True, eq=False)
class Flows:
    """All flows with the catalog they speak through and prepared option matchers."""

    specs: Mapping[str, FlowSpec]
    catalog: Catalog
    choices: Mapping[tuple[str, str], tuple[Choice, ...]]

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self.specs

    def step(self, flow_id: str | None, step_id: str | None) -> StepSpec | None:
        """The step, or None when the flow or step no longer exists."""
        spec = self.specs.get(flow_id or "")
        return spec.steps.get(step_id or "") if spec else None

    def keys_used(self) -> frozenset[str]:
        """Every catalog key the flows mention."""
        return frozenset(k for f in self.specs.values() for s in f.steps.values() for k in s.keys())


def load_flows(directory: Path | str = FLOWS_DIR, catalog: Catalog | None = None) -> Flows:
    """Read and check every `*.yaml` flow in `directory` (call once and keep the result)."""
    catalog = catalog or i18n.catalog()
    specs: dict[str, FlowSpec] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        spec = load_flow(path, catalog)
        specs[spec.id] = spec
    if not specs:
        raise FlowSpecError(f"{directory}: no flows found")
    choices = {
        (spec.id, step.id): tuple(
            build_choice(o.value, _labels(catalog, o.label), o.match) for o in step.options
        )
        for spec in specs.values()
        for step in spec.steps.values()
        if step.kind == "choice"
    }
    return Flows(specs, catalog, choices)


def _labels(catalog: Catalog, key: str) -> Iterable[str]:
    return [catalog.t(key, lang) for lang in LANGS]


def load_flow(path: Path, catalog: Catalog) -> FlowSpec:
    """Read one flow file and check it completely."""
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        raise FlowSpecError(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise FlowSpecError(f"{name}: must be a mapping with id, intent, start, steps")
    unknown = set(raw) - _FLOW_KEYS
    if unknown:
        raise FlowSpecError(f"{name}: unknown field(s) {sorted(unknown)}")
    if raw.get("id") != path.stem:
        raise FlowSpecError(f"{name}: id must be {path.stem!r} (the file name)")
    if raw.get("intent") not in INTENTS:
        raise FlowSpecError(f"{name}: intent must be one of {list(INTENTS)}")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, dict) or not steps_raw:
        raise FlowSpecError(f"{name}: steps must be a non-empty mapping")
    steps = {sid: _step(name, str(sid), body) for sid, body in steps_raw.items()}
    spec = FlowSpec(
        id=path.stem,
        intent=raw["intent"],
        start=str(raw.get("start")),
        steps=steps,
        privacy=bool(raw.get("privacy", False)),
        source=name,
        case_first=bool(raw.get("case_first", False)),
    )
    check_flow(spec, catalog)
    return spec


def _step(name: str, sid: str, body: Any) -> StepSpec:
    where = f"{name}: step {sid!r}"
    if not isinstance(body, dict):
        raise FlowSpecError(f"{where}: must be a mapping")
    kind = str(body.get("kind"))
    if kind not in ALLOWED:
        known = ", ".join(sorted(ALLOWED))
        raise FlowSpecError(f"{where}: unknown kind {body.get('kind')!r} (known: {known})")
    unknown = set(body) - ALLOWED[kind]
    if unknown:
        raise FlowSpecError(f"{where}: field(s) {sorted(unknown)} not allowed for kind {kind}")
    say = body.get("say", ())
    say = (say,) if isinstance(say, str) else tuple(say)
    options = tuple(_option(where, o) for o in body.get("options", ()))
    mapping = body.get("branches", body.get("cases", {}))
    if not isinstance(mapping, dict):
        raise FlowSpecError(f"{where}: branches/cases must be a mapping")
    return StepSpec(
        id=sid,
        kind=kind,
        say=say,
        next=body.get("next"),
        save_as=body.get("save_as"),
        optional=bool(body.get("optional", False)),
        privacy=bool(body.get("privacy", False)),
        retry=body.get("retry"),
        skip_if=tuple(body.get("skip_if", ())),
        options=options,
        branches={str(k).lower(): str(v) for k, v in mapping.items()},
        on=body.get("on"),
        prefill_from_text=bool(body.get("prefill_from_text", False)),
        prefill_yes=tuple(normalize(str(p)) for p in body.get("prefill_yes", ())),
        reroute=body.get("reroute"),
        low=int(body.get("min", 0)),
        high=int(body.get("max", 999)),
    )


def _option(where: str, raw: Any) -> OptionSpec:
    if not isinstance(raw, dict) or not raw.get("value") or not raw.get("label"):
        raise FlowSpecError(f"{where}: each option needs a value and a label")
    unknown = set(raw) - {"value", "label", "match", "next", "range"}
    if unknown:
        raise FlowSpecError(f"{where}: option field(s) {sorted(unknown)} unknown")
    value = str(raw["value"])
    if len(value.encode()) > 40 or not value.replace("_", "").isalnum():
        raise FlowSpecError(f"{where}: option value {value!r} must be short letters/digits/_")
    match = tuple(str(m) for m in raw.get("match", ()))
    bounds = raw.get("range")
    if bounds is not None and not (
        isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) for b in bounds)
    ):
        raise FlowSpecError(f"{where}: option range must be [low, high] (whole numbers)")
    span = (bounds[0], bounds[1]) if bounds is not None else None
    return OptionSpec(value, str(raw["label"]), match, raw.get("next"), span)
