"""Checking a flow: every target exists, no dead end, every step reachable, every key in
both catalogs. `load_flow` runs it; the tests run it on every file in `flows/`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from bot.errors import FlowSpecError
from bot.types import LANGS

if TYPE_CHECKING:
    from bot.engine.flows import FlowSpec, StepSpec
    from bot.i18n import Catalog

TERMINAL: Final = frozenset({"end", "done"})


def check_flow(spec: FlowSpec, catalog: Catalog) -> None:
    """Raise FlowSpecError for unknown targets, dead ends, unreachable steps, missing keys."""
    name, steps = spec.source or spec.id, spec.steps
    if spec.start not in steps:
        raise FlowSpecError(f"{name}: start step {spec.start!r} does not exist")
    for step in steps.values():
        where = f"{name}: step {step.id!r}"
        for target in step.targets():
            if target not in steps:
                raise FlowSpecError(f"{where}: leads to unknown step {target!r}")
        if step.reroute and getattr(steps.get(step.reroute), "kind", None) != "choice":
            raise FlowSpecError(f"{where}: reroute {step.reroute!r} must be a choice step")
        _check_shape(where, step)
        for key in step.keys():
            for lang in LANGS:
                if not catalog.has(key, lang):
                    raise FlowSpecError(f"{where}: message {key!r} missing in {lang}.po")
    reachable = _reach(spec.start, {s.id: s.targets() for s in steps.values()})
    for sid in steps:
        if sid not in reachable:
            raise FlowSpecError(f"{name}: step {sid!r}: unreachable from {spec.start!r}")
    backwards: dict[str, list[str]] = {sid: [] for sid in steps}
    for step in steps.values():
        for target in step.targets():
            backwards[target].append(step.id)
    finishing = _reach_many([s.id for s in steps.values() if s.kind in TERMINAL], backwards)
    for sid in steps:
        if sid not in finishing:
            raise FlowSpecError(f"{name}: step {sid!r}: dead end (no way to an end or done step)")


def _check_shape(where: str, step: StepSpec) -> None:
    if step.kind in TERMINAL:
        return
    if step.kind != "branch" and not step.say:
        raise FlowSpecError(f"{where}: needs say (a catalog key)")
    if step.kind not in ("message", "branch") and not step.save_as:
        raise FlowSpecError(f"{where}: needs save_as (the answer's name)")
    if step.kind == "choice":
        values = [o.value for o in step.options]
        if len(values) < 2 or len(set(values)) != len(values):
            raise FlowSpecError(f"{where}: a choice needs 2 or more options with distinct values")
        if not step.next and any(o.next is None for o in step.options):
            raise FlowSpecError(f"{where}: dead end: an option has no next and the step has none")
    elif step.kind in ("yes_no", "consent"):
        if set(step.branches) - {"yes", "no"}:
            raise FlowSpecError(f"{where}: branches may only be yes and no")
        if not step.next and set(step.branches) != {"yes", "no"}:
            raise FlowSpecError(f"{where}: dead end: needs next or both yes and no branches")
        if step.kind == "consent" and "no" not in step.branches:
            raise FlowSpecError(f"{where}: a consent step needs a no branch")
    elif step.kind == "branch":
        if not step.on or not step.next:
            raise FlowSpecError(f"{where}: a branch needs on (an answer name) and next")
    elif not step.next:
        raise FlowSpecError(f"{where}: dead end: needs next")


def _reach(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    return _reach_many([start], edges)


def _reach_many(starts: list[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen, todo = set(starts), list(starts)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
