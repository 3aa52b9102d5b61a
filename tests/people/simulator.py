"""A person simulator: someone who writes to the hotline the way real people do.

A `Person` talks through `bot.terminal.TerminalChat` (inbox row → `Hotline.process` →
outbox), rendered as SMS or Telegram. Before each answer it reads the stored conversation
state — the flow, the step, a pending privacy notice, whether the same question is being
asked again — and answers it in its style:

    digits     option numbers and bare digits ("1", "77036", "2145550142")
    words      the option's words or a short answer ("en el trabajo", "sí", "yesterday")
    story      a sentence that tells a bit of the story, for every question
    dont_know  "no sé" / "I don't know" to everything
    facts      the answer plus other facts in one message ("sí, fue ahorita en el 77036, …")
    off_topic  emoji and off-topic replies ("😭🙏", "my phone is dying"); answers in words
               once the bot asks again
    emoji      no words at all ("😭🙏", "???") the first time each question comes, then
               an answer in words: every question needs asking twice

Everyone accepts the privacy notice in their style ("1", "si", "ok dale", "yes I agree").
Offered consultation times (the `appointment` step) are answered like options: a number,
the time's words as shown, or a sentence naming its number or weekday.
The checks at the end of the module are what a person (or the staff reading the case)
would notice: a question asked a third time in a row, words missing from the case.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlmodel import col, select

from bot.contacts import find_contact
from bot.conversations import Hotline
from bot.db import Database
from bot.engine.flows import StepSpec
from bot.models import Case, Conversation
from bot.terminal import CHANNEL, TerminalChat
from bot.types import as_lang

from . import sayings

STYLES: Final = ("digits", "words", "story", "dont_know", "facts", "off_topic", "emoji")
REPORT_FLOWS: Final = ("raid", "detention", "harassment")
INFO_FLOWS: Final = ("documents", "programs")
CASE_FLOWS: Final = (*REPORT_FLOWS, "screening")  # every flow that ends with a case
MAX_TURNS: Final = 20
# The screening asks up to ten questions (years … the consultation time): someone who needs
# each asked twice (emoji, off_topic) takes 23 turns from a greeting.
FLOW_TURNS: Final = {"screening": 24}
_CLOCK: Final = re.compile(r"\b(\d{1,2}):(\d{2})(?:\s?([ap]m))?", re.IGNORECASE)
REF: Final = re.compile(r"\bHL-[0-9A-Z]{6}\b")
_OPTION_LINE: Final = re.compile(r"^\s*\d{1,2}\)\s")
_QUESTION: Final = re.compile(r"[¿]?[^.!?¿¡\n]*\?")


@dataclass(frozen=True, slots=True)
class Said:
    """One message from the person; `free` marks their own words (a story, several facts,
    an off-topic sentence) as opposed to an option, a yes, a date or "no sé"."""

    text: str
    free: bool = False


@dataclass(frozen=True, slots=True)
class Exchange:
    """One turn: what the person wrote, what came back, and the state it left."""

    said: Said
    replies: list[dict[str, object]]
    state: dict[str, Any]
    accepted: bool  # the privacy notice was accepted before this message was sent

    @property
    def texts(self) -> list[str]:
        return [str(r["text"]) for r in self.replies]

    @property
    def place(self) -> tuple[Any, Any, Any]:
        return (self.state.get("flow"), self.state.get("step"), self.state.get("pending"))


@dataclass(frozen=True, slots=True)
class Question:
    """What the conversation waits for, read from the stored state."""

    lang: str
    flow: str | None
    step: StepSpec | None
    pending: str | None
    repeat: int  # 0 the first time this question is asked, 1 when asked again, …
    # The step's option labels in the person's language; at an `appointment` step, the
    # times offered (and "none of these") as the person saw them.
    labels: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.step.kind if self.step is not None else "menu"


@dataclass
class Outcome:
    """How the conversation ended for the simulator."""

    finished: bool  # a report reached a complete case / an information flow ended
    reason: str
    case: Case | None = None


@dataclass
class Person:
    """One simulated person on one channel, aiming at one flow, answering in one style (or
    a style per answer, for mixed people)."""

    hotline: Hotline
    database: Database
    sender: str
    lang: str
    channel: str  # how replies are rendered: "sms" or "telegram"
    flow: str  # what they want to report or ask about
    styles: Sequence[str]  # one style for everything, or one per answer (cycled)
    seed: int = 0
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The same person (flow, language, channel, styles, seed) says the same things,
        # whatever their sender id: a failure replays exactly.
        self.rng = random.Random(
            f"{self.flow}:{self.lang}:{self.channel}:{','.join(self.styles)}:{self.seed}"
        )
        # Telegram tells the language of the app; an SMS says nothing about it.
        hint = self.lang if self.channel == "telegram" else None
        self.chat = TerminalChat(
            self.hotline, self.database, sender=self.sender, render_as=self.channel, lang=hint
        )

    # -- talking -----------------------------------------------------------------------
    def send(self, said: Said | str) -> Exchange:
        """Write one message; keep and return the turn."""
        said = said if isinstance(said, Said) else Said(said)
        before = self.exchanges[-1].state if self.exchanges else self.state()
        accepted = bool(before.get("privacy_accepted"))
        replies = self.chat.send(said.text)
        exchange = Exchange(said, replies, self.state(), accepted)
        self.exchanges.append(exchange)
        return exchange

    def first_message(self, start: str) -> list[Said]:
        """How the person opens: free text about their flow, or a greeting then the menu."""
        if start == "free":
            choices = [t for f, _, t in sayings.FIRST[self.lang] if f == self.flow]
            text = self.rng.choice(choices)
            return [Said(text, free=len(text.split()) >= 3)]
        return [Said(self.rng.choice(sayings.GREETING[self.lang]))]

    def talk(self, opening: Iterable[Said], *, max_turns: int | None = None) -> Outcome:
        """Send the opening, then answer whatever is asked until the report is a complete
        case (or the information flow ends), the person is dropped, or `max_turns` (by
        default the flow's: `FLOW_TURNS`, else `MAX_TURNS`)."""
        max_turns = max_turns or FLOW_TURNS.get(self.flow, MAX_TURNS)
        entered = False
        queue = list(opening)
        while len(self.exchanges) < max_turns:
            said = queue.pop(0) if queue else self.answer(self.question())
            exchange = self.send(said)
            state = exchange.state
            entered = entered or state.get("flow") is not None
            if state.get("flow") is not None or state.get("pending"):
                continue
            if not entered:
                continue  # still at the menu: the next answer picks the flow
            if self.flow in INFO_FLOWS:
                return Outcome(True, "back at the menu", self.case())
            case = self.case()
            if case is not None and case.intake_step is None:
                return Outcome(True, "complete case", case)
            return Outcome(False, "left the report without a complete case", case)
        return Outcome(False, f"not finished within {max_turns} turns", self.case())

    # -- reading the stored conversation -------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The stored conversation state ({} before the first message)."""
        with self.database.read() as session:
            contact = find_contact(session, CHANNEL, self.sender)
            if contact is None:
                return {}
            row = session.exec(
                select(Conversation).where(Conversation.contact_id == contact.id)
            ).first()
            return dict(row.state or {}) if row is not None else {}

    def contact_id(self) -> int | None:
        with self.database.read() as session:
            contact = find_contact(session, CHANNEL, self.sender)
            return contact.id if contact is not None else None

    def case(self) -> Case | None:
        """The person's latest case: the report in progress, else the last one they made."""
        state = self.state()
        refs = [r for r in (state.get("case_ref"), state.get("last_ref")) if r]
        with self.database.read() as session:
            for ref in refs:
                found = session.exec(select(Case).where(Case.ref == ref)).first()
                if found is not None:
                    return found
            owner = self.contact_id()
            if owner is None:
                return None
            return session.exec(
                select(Case).where(Case.contact_id == owner).order_by(col(Case.id).desc())
            ).first()

    def cases(self) -> list[Case]:
        """Every case this person made (with their contact, or by a ref they were given)."""
        owner = self.contact_id()
        refs = {m for e in self.exchanges for t in e.texts for m in REF.findall(t)}
        with self.database.read() as session:
            rows = session.exec(select(Case).order_by(col(Case.id))).all()
            return [c for c in rows if c.contact_id == owner or c.ref in refs]

    def question(self) -> Question:
        """The question the person is looking at, from the stored state."""
        state = self.exchanges[-1].state if self.exchanges else self.state()
        flow, step_id = state.get("flow"), state.get("step")
        step = self.hotline.flows.step(flow, step_id)
        pending = state.get("pending")
        repeat = 0
        place = (flow, step_id, pending)
        for exchange in reversed(self.exchanges[:-1]):
            if exchange.place != place:
                break
            repeat += 1
        lang = str(state.get("lang") or self.lang)
        catalog = self.hotline.flows.catalog
        labels = tuple(catalog.t(o.label, as_lang(self.lang)) for o in step.options) if step else ()
        if step is not None and step.kind == "appointment" and self.exchanges:
            labels = shown_options(self.exchanges[-1])
        return Question(lang, flow, step, pending, repeat, labels)

    # -- answering -----------------------------------------------------------------------
    def style_now(self) -> str:
        return self.styles[len(self.exchanges) % len(self.styles)]

    def answer(self, question: Question) -> Said:
        """The person's next message, in their style, to `question`."""
        style = self.style_now()
        lang = self.lang
        if question.pending and question.pending.startswith("privacy"):
            return Said(self.rng.choice(sayings.ACCEPT[style][lang]))
        if question.step is None:
            return self.menu_pick(style)
        if style == "digits":
            return Said(self.digits(question))
        if style == "words":
            return Said(self.words(question, typos=True))
        if style == "story":
            text = self.rng.choice(_lookup(sayings.STORY[lang], question))
            if question.kind == "appointment" and question.labels:
                index = self.option_index(question)
                text = naming_a_time(text, question.labels[index], index + 1, lang)
            return Said(text, free=True)
        if style == "dont_know":
            return Said(self.rng.choice(sayings.DONT_KNOW[lang]))
        if style == "facts":
            lead = self.words(question, typos=False)
            bits = self.rng.sample(sayings.FACT_BITS[lang][question.flow or self.flow], 2)
            return Said(", ".join([lead, *bits]), free=True)
        if question.repeat > 0:  # off_topic, emoji: an answer once the bot asks again
            return Said(self.words(question, typos=True))
        if style == "emoji":
            return Said(self.rng.choice(sayings.EMOJI[lang]))
        text = self.rng.choice(sayings.OFF_TOPIC[lang])
        return Said(text, free=len(text.split()) >= 3)

    def menu_pick(self, style: str) -> Said:
        if style in ("digits", "dont_know"):
            return Said(str(sayings.MENU_NUMBER[self.flow]))
        return Said(self.rng.choice(sayings.MENU_WORDS[self.lang][self.flow]))

    def option_index(self, question: Question) -> int:
        """Which option the person means: the closing one at "anything else?", one of the
        times offered (not "none of these") at an appointment step, else any."""
        step = question.step
        assert step is not None
        if step.kind == "appointment":
            return self.rng.randrange(max(1, len(question.labels) - 1))
        values = [o.value for o in step.options]
        if "done" in values:
            return values.index("done")
        return self.rng.randrange(len(values))

    def digits(self, question: Question) -> str:
        kind = question.kind
        if kind in ("choice", "appointment"):
            return str(self.option_index(question) + 1)
        if kind in ("yes_no", "consent"):
            return self.rng.choice(("1", "2"))
        if kind == "time":
            return str(self.rng.randrange(4) + 1)
        return self.rng.choice(sayings.DIGITS.get(kind, ("1",)))

    def words(self, question: Question, *, typos: bool) -> str:
        if question.kind in ("choice", "appointment"):
            labels = question.labels or ("1",)  # no time shown: the first one, by number
            text = labels[self.option_index(question)].lower()
        else:
            text = self.rng.choice(_lookup(sayings.WORDS[self.lang], question))
        if typos and self.rng.random() < 0.5:
            text = unaccent(text)
        if typos and self.rng.random() < 0.3:
            text = typo(text, self.rng)
        return text


def naming_a_time(template: str, label: str, n: int, lang: str) -> str:
    """A sentence about the offered time `label` (option `n`), the way a person says it:
    "el {weekday} a las {time}" → "el jueves a las 10", "la {n} porfa" → "la 2 porfa"."""
    first = unaccent(label.split(" ")[0]).strip(".,").lower()
    weekday = sayings.WEEKDAYS[lang].get(first, first)
    time = ""
    clock = _CLOCK.search(label)
    if clock is not None:
        hour, minutes, half = clock.groups()
        time = (hour if minutes == "00" else f"{hour}:{minutes}") + (half or "").lower()
    return template.format(n=n, weekday=weekday, time=time)


def shown_options(exchange: Exchange) -> tuple[str, ...]:
    """The options the last reply of a turn offered, as the person saw them."""
    if not exchange.replies:
        return ()
    options = exchange.replies[-1].get("options")
    return tuple(str(o) for o in options) if isinstance(options, list) else ()


def _lookup(table: sayings.Table, question: Question) -> tuple[str, ...]:
    flow, kind = question.flow or "*", question.kind
    step_id = question.step.id if question.step is not None else ""
    for key in ((flow, step_id), (flow, kind), ("*", kind), (flow, "*")):
        if key in table:
            return table[key]
    raise KeyError(f"nothing to say to {flow}/{step_id} ({kind})")


def unaccent(text: str) -> str:
    """The text typed without accents (ñ stays): "sí" → "si"."""
    out = []
    for char in text:
        if char in "ñÑ":
            out.append(char)
        else:
            out.append(unicodedata.normalize("NFKD", char)[0])
    return "".join(out)


def typo(text: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped inside one longer word: "trabajo" → "trbaajo"."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


# ---------------------------------------------------------------------------------------
# What a person or the staff would notice.


def question_line(texts: Sequence[str]) -> str | None:
    """The question a turn's reply ends on: the last question sentence ("¿…?"), else the
    last line that is not an option ("1) Sí"); None for an empty reply."""
    lines = [
        line.strip()
        for text in texts
        for line in text.splitlines()
        if line.strip() and not _OPTION_LINE.match(line)
    ]
    for line in reversed(lines):
        asked = _QUESTION.findall(line)
        if asked:
            return " ".join(asked[-1].split())
    return lines[-1] if lines else None


def transcript(exchanges: Sequence[Exchange], last: int = 6) -> str:
    """The last turns, as the person saw them."""
    shown = exchanges[-last:]
    lines = []
    start = len(exchanges) - len(shown) + 1
    for n, exchange in enumerate(shown, start):
        place = "/".join(str(x) for x in exchange.place if x)
        lines.append(f"  {n:>2} person> {exchange.said.text}")
        for text in exchange.texts:
            lines.append("        bot> " + text.replace("\n", " | "))
        lines.append(f"        [state: {place or 'idle'}]")
    return "\n".join(lines)


def repeated_questions(exchanges: Sequence[Exchange]) -> list[str]:
    """A question line asked in three turns in a row, or the conversation standing at the
    same question after three answers in a row."""
    found = []
    asked = [question_line(e.texts) for e in exchanges]
    for i in range(len(asked) - 2):
        if asked[i] and asked[i] == asked[i + 1] == asked[i + 2]:
            found.append(
                f"question asked 3 turns in a row (turns {i + 1}-{i + 3}): {asked[i]!r}\n"
                + transcript(exchanges[: i + 3])
            )
            break
    for i in range(len(exchanges) - 2):
        place = exchanges[i].place
        same = place[0] is not None and place == exchanges[i + 1].place == exchanges[i + 2].place
        if same and all(exchanges[k].replies for k in (i, i + 1, i + 2)):
            found.append(
                f"stayed at the same question {'/'.join(str(p) for p in place if p)} after "
                f"3 answers in a row (turns {i + 1}-{i + 3})\n" + transcript(exchanges[: i + 3])
            )
            break
    return found


def words_of(case: Case) -> list[str]:
    """Every piece of text the case holds: the summary and each string in the answers."""
    found = [case.summary or ""]

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from walk(item)

    found.extend(walk(case.answers or {}))
    return [_plain(x) for x in found if x]


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def lost_words(exchanges: Sequence[Exchange], case: Case | None) -> list[str]:
    """The person's own words (3+ words) said after accepting the privacy notice — and the
    first message, once accepted — that the case does not hold."""
    accepted = any(e.state.get("privacy_accepted") for e in exchanges)
    if not accepted:
        return []
    held = words_of(case) if case is not None else []
    missing = []
    for n, exchange in enumerate(exchanges, 1):
        said = exchange.said
        counted = exchange.accepted or n == 1
        if not (said.free and counted and len(said.text.split()) >= 3):
            continue
        wanted = _plain(said.text)
        if not any(wanted in text for text in held):
            step = "/".join(str(x) for x in exchanges[n - 2].place if x) if n > 1 else "first"
            missing.append(f"turn {n} (answering {step}): {said.text!r}")
    if not missing:
        return []
    ref = case.ref if case is not None else "no case"
    return [
        f"words not on the case ({ref}):\n    "
        + "\n    ".join(missing)
        + f"\n  case summary: {case.summary if case else None!r}"
        + f"\n  case answers: {case.answers if case else None!r}"
    ]


def check_report(person: Person, outcome: Outcome) -> list[str]:
    """Everything a person reporting would notice going wrong, as readable problems."""
    problems = []
    who = (
        f"{person.flow} / {'+'.join(dict.fromkeys(person.styles))} / {person.lang} / "
        f"{person.channel}"
    )
    if not outcome.finished:
        problems.append(
            f"{outcome.reason} ({len(person.exchanges)} turns)\n" + transcript(person.exchanges)
        )
    case = outcome.case
    if person.flow in CASE_FLOWS:
        if outcome.finished and (case is None or case.intake_step is not None):
            problems.append("no complete case\n" + transcript(person.exchanges))
        elif case is not None and case.flow != person.flow:
            problems.append(
                f"the case is a {case.flow!r} report, not {person.flow!r}\n"
                + transcript(person.exchanges, 3)
            )
        problems += lost_words(person.exchanges, case)
    elif outcome.finished:
        made = person.cases()
        if made:
            problems.append(
                f"an information flow left case(s) {[c.ref for c in made]}\n"
                + transcript(person.exchanges)
            )
    problems += repeated_questions(person.exchanges)
    return [f"[{who}] {p}" for p in problems]
