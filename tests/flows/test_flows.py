"""Every flow file loads and validates, and every path through it reaches its end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import FLOWS_DIR, ConversationState, Media, SaveReport, load_flow
from bot.engine.flows import FlowSpec, StepSpec
from bot.i18n import catalog
from bot.types import LANGS
from tests.engine.support import Talk, flows

FILES = sorted(FLOWS_DIR.glob("*.yaml"))
REPORTS = ("raid", "detention", "harassment", "screening")
# Reached only by a command, with slots from the database (tests/appointments walk it).
BY_COMMAND = ("appointment",)


def test_the_flows_exist() -> None:
    assert {p.stem for p in FILES} == {
        "raid",
        "detention",
        "harassment",
        "documents",
        "programs",
        "screening",
        "appointment",
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_flow_loads_and_validates(path: Path) -> None:
    spec = load_flow(path, catalog())
    assert spec.id == path.stem
    assert any(s.kind in ("end", "done") for s in spec.steps.values())


def variants(step: StepSpec, lang: str) -> list[object]:
    """One answer for every way out of `step` (a Media tuple stands for a photo)."""
    es = lang == "es"
    skip = ["no sé" if es else "skip"] if step.optional else []
    by_kind: dict[str, list[object]] = {
        "choice": [str(i) for i in range(1, len(step.options) + 1)],
        "yes_no": ["sí" if es else "yes", "no"],
        "consent": ["sí" if es else "yes", "no"],
        "text": ["Tres camionetas y seis agentes" if es else "Three vans and six agents"],
        "number": ["3"],
        "location": ["77036", "Houston, TX"],
        "time": ["ahora" if es else "now", "ayer" if es else "yesterday", "4"],
        "phone": ["713 555 0123"],
        "dob": ["25/12/1985" if es else "12/25/1985"],
        "a_number": ["A123456789"],
        "media": [(Media("photo-1", "image/jpeg"),), "no"],
        "date": ["15 de enero" if es else "January 15", "la próxima semana" if es else "next week"],
        "appointment": [],  # no slots without a database: the step says so and moves on
    }
    return by_kind[step.kind] + skip


def walk_all(
    flow_id: str, lang: str
) -> tuple[set[tuple[str, int]], set[tuple[str, int]], list[Talk]]:
    """Walk until every answer variant of every step was taken once."""
    spec = flows().specs[flow_id]
    todo = {
        (s.id, i)
        for s in spec.steps.values()
        if s.save_as and s.kind != "appointment"
        for i in range(len(variants(s, lang)))
    }
    done: set[tuple[str, int]] = set()
    talks: list[Talk] = []
    while todo - done and len(talks) < 60:
        talk = Talk(
            state=ConversationState(
                lang=lang,
                lang_chosen=True,  # type: ignore[arg-type]
                last_activity="2026-03-10T15:00:00+00:00",
            )
        )
        talk.say("english" if lang == "en" else "español")
        start = talk.say(flow_id)  # the menu value, as a button sends it
        assert start.state.flow == flow_id
        for _ in range(60):
            state = talk.state
            if state.flow is None:
                break
            if state.pending and state.pending.startswith("privacy"):
                talk.say("sí" if lang == "es" else "yes")
                continue
            assert state.pending is None, state.pending
            step = spec.steps[state.step or ""]
            options = variants(step, lang)
            fresh = [i for i in range(len(options)) if (step.id, i) not in done]
            index = fresh[0] if fresh else _default(spec, step, todo - done)
            done.add((step.id, index))
            answer = options[index]
            if isinstance(answer, tuple):
                result = talk.say("", media=answer)
            else:
                result = talk.say(str(answer))
            assert result.state.misses == 0, (step.id, answer, result.replies)
        assert talk.state.flow is None, f"{flow_id}: did not finish: {talk.state}"
        talks.append(talk)
    return todo - done, done, talks


def _default(spec: FlowSpec, step: StepSpec, missing: set[tuple[str, int]]) -> int:
    """An answer leading towards steps still to cover, else "that's all", else the first."""
    wanted = {sid for sid, _ in missing}
    for index, option in enumerate(step.options):
        if _reaches(spec, option.next or step.next, wanted, {step.id}):
            return index
    values = [o.value for o in step.options]
    return values.index("done") if "done" in values else 0


def _reaches(spec: FlowSpec, start: str | None, wanted: set[str], seen: set[str]) -> bool:
    todo = [start] if start else []
    while todo:
        current = todo.pop()
        if current in wanted:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo.extend(spec.steps[current].targets())
    return False


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("flow_id", [p.stem for p in FILES if p.stem not in BY_COMMAND])
def test_every_path_reaches_its_end_in_both_languages(flow_id: str, lang: str) -> None:
    missed, done, talks = walk_all(flow_id, lang)
    assert not missed, f"answers never taken: {sorted(missed)}"
    spec = flows().specs[flow_id]
    asked = {s.id for s in spec.steps.values() if s.save_as and s.kind != "appointment"}
    assert asked <= {sid for sid, _ in done}
    cases = [t.opened() for t in talks]
    for case in cases:
        if case is not None:
            assert case.flow == flow_id and case.intent == spec.intent
            assert case.answers["flow"] == flow_id and case.answers["lang"] == lang
    if flow_id in REPORTS:
        assert all(cases), "every report path opens a case"
    else:
        assert any(cases) and not all(cases), "a case only when the person asks for help"
    for talk in talks:
        for step in talk.steps:
            for reply in step.replies:
                assert reply.text.strip() and "{" not in reply.text
                if lang == "en":
                    assert "¿" not in reply.text


PEOPLE = {
    ("raid", "es"): [
        "hola",
        "1",
        "si",
        "si acepto",
        "en el trabjo, Houston tx",
        "ahorita",
        "como 10",
        "no se",
        "vi 4 camionetas",
    ],
    ("raid", "en"): [
        "hi",
        "raid",
        "yes",
        "ok",
        "at my job, 77036",
        "right now",
        "about 5",
        "dont know",
        "no",
    ],
    ("detention", "es"): [
        "buenas",
        "detuvieron a mi hijo",
        "SI",
        "Jose Luis Ramirez",
        "3 de mayo de 1990",
        "mexico",
        "no lo se",
        "Dallas",
        "ayer",
        "no se",
        "este",
    ],
    ("detention", "en"): [
        "hello",
        "2",
        "ok",
        "husband",
        "Maria Lopez",
        "5/3/1988",
        "Mexico",
        "A 123 456 789",
        "Phoenix, AZ",
        "this morning",
        "Eloy",
        "(602) 555-0199",
    ],
    ("harassment", "es"): [
        "hola",
        "3",
        "no",
        "sí",
        "el patron",
        "hace 3 dias",
        "90011",
        "me dice que me va a reportar si no trabajo gratis",
        "no tengo",
    ],
    ("harassment", "en"): [
        "hey",
        "harassment",
        "nope",
        "yes",
        "landlord",
        "last week",
        "Chicago IL",
        "he says he will call ICE on us",
        "no",
    ],
}


@pytest.mark.parametrize(("flow_id", "lang"), list(PEOPLE))
def test_a_person_answering_like_a_real_person_reaches_a_case(flow_id: str, lang: str) -> None:
    talk = Talk()
    for message in PEOPLE[(flow_id, lang)]:
        talk.say(message)
        if talk.opened():
            break
    case = talk.opened()
    assert isinstance(case, SaveReport), [s.replies[-1].text for s in talk.steps]
    assert case.flow == flow_id and case.answers["lang"] == lang
    assert len(talk.steps) <= 14
    misses = sum(1 for s in talk.steps if s.state.misses)
    assert misses <= 1


BAD = ["", "x" * 10_000, "😢🙏😢", "\x00\x07\x1b\x08", "   "]


@pytest.mark.parametrize("bad", BAD, ids=["empty", "10k", "emoji", "control", "blank"])
@pytest.mark.parametrize("flow_id", [p.stem for p in FILES])
def test_bad_input_mid_flow_gets_a_short_answer_and_stays(flow_id: str, bad: str) -> None:
    spec = flows().specs[flow_id]
    for step in spec.steps.values():
        if not step.save_as or (step.kind in ("text", "media") and bad.startswith("x")):
            continue
        state = ConversationState(
            flow=flow_id,
            step=step.id,
            privacy_accepted=True,
            last_activity="2026-03-10T15:00:00+00:00",
            case_ref="HL-7K4M2Q" if spec.case_first else None,  # opened at the notice
        )
        result = Talk(state=state).say(bad)
        assert result.state.flow == flow_id and result.state.step == step.id, step.id
        # Words that answer nothing are kept as a note on the open case, never dropped.
        assert all(isinstance(e, SaveReport) and not e.done for e in result.effects)
        if spec.case_first:
            assert bool(result.effects) == bool(result.state.answers.get("notes"))
        assert 1 <= len(result.replies) <= 2
        assert all(len(r.text) < 400 for r in result.replies)


def test_a_very_long_story_is_kept_but_capped() -> None:
    state = ConversationState(
        flow="harassment",
        step="details",
        privacy_accepted=True,
        last_activity="2026-03-10T15:00:00+00:00",
    )
    result = Talk(state=state).say("x" * 10_000)
    assert result.state.step == "evidence"
    assert len(result.state.answers["details"]) == 4000
