"""The staff API's request and response shapes (they also feed the dashboard's templates)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from bot import appointments

OUTCOMES: tuple[str, ...] = (
    "helped",
    "referred",
    "information",
    "duplicate",
    "no_response",
    "not_consular",
)
# A flow whose cases end otherwise: each outcome with the catalog key of its label. A
# screening ends as its consultation did (`bot.appointments.OUTCOMES`: advised, referred to a
# PALE lawyer, represented), or with no answer from the person, or as a duplicate.
_CONSULTATION_LABELS: Final = {
    "advised": "staff.outcome.consultation.advised",
    "referred": "staff.outcome.consultation.referred",
    "represented": "staff.outcome.consultation.represented",
}
FLOW_OUTCOMES: Final[Mapping[str, Mapping[str, str]]] = {
    "screening": {
        **{o: _CONSULTATION_LABELS[o] for o in appointments.OUTCOMES},
        "no_response": "staff.outcome.no_response",
        "duplicate": "staff.outcome.duplicate",
    }
}
Outcome = Literal[
    "helped",
    "referred",
    "information",
    "duplicate",
    "no_response",
    "not_consular",
    "advised",
    "represented",
]


def outcomes_for(flow: str) -> Mapping[str, str]:
    """The outcomes a case of this flow may be resolved with, each with its label's key."""
    return FLOW_OUTCOMES.get(flow) or {o: f"staff.outcome.{o}" for o in OUTCOMES}


CANNED: tuple[str, ...] = ("received", "calling", "documents", "more_info", "safety")
Canned = Literal["received", "calling", "documents", "more_info", "safety"]
IntakeState = Literal["in_progress", "not_finished"]  # see bot.staff.queue.intake_state


class QueueItem(BaseModel):
    """One line of a desk's queue: a case without a parent, with its linked reports.

    `intake` says how far the person's report has got: `in_progress` (they answered within
    the last minutes, `intake_step` is the question reached), `not_finished` (they stopped
    before the end) or None (`intake_finished`). `needs_review`: triage was unsure."""

    ref: str
    intent: str
    priority: str
    priority_rank: int
    desk: str
    status: str
    needs_review: bool = False
    intake: IntakeState | None = None
    intake_step: str | None = None
    intake_finished: bool = True
    channel: str
    lang: str
    created_at: datetime
    sla_due_at: datetime | None
    first_response_at: datetime | None
    escalated: bool
    also_central: bool
    report_count: int
    claimed_by: int | None
    lease_expires_at: datetime | None
    incident_id: int | None = None
    incident_reports: int | None = None
    incident_state: str | None = None


class TranscriptLine(BaseModel):
    """One message between the person and the hotline."""

    at: datetime
    direction: Literal["in", "out"]
    text: str
    status: str


class EventOut(BaseModel):
    """One entry of the case's history."""

    at: datetime
    kind: str
    actor: str
    data: dict[str, Any] | None


class LinkedCase(BaseModel):
    """A later report folded into this case."""

    ref: str
    intent: str
    priority: str
    created_at: datetime
    summary: str | None


class IncidentOut(BaseModel):
    """A group of raid reports close in place and time."""

    id: int
    desk: str
    zip: str | None
    label: str | None
    first_report_at: datetime
    last_report_at: datetime
    report_count: int
    reporter_count: int
    state: str
    note: str | None
    verified_at: datetime | None
    primary_ref: str | None = None


class CaseDetail(QueueItem):
    """Everything an authorised staff member sees of a case."""

    flow: str
    reasons: list[str]
    summary: str | None
    answers: dict[str, Any] | None
    location: str | None
    location_confidence: str | None
    zip: str | None
    resolved_at: datetime | None
    outcome: str | None
    erased: bool
    transcript: list[TranscriptLine]
    events: list[EventOut]
    evidence: list[dict[str, str]]
    linked: list[LinkedCase]
    incident: IncidentOut | None
    parent_ref: str | None
    # A screening the caller may not read (not legal-aid staff of its desk): its answers,
    # words, reasons, transcript and history details are left out; they exist.
    restricted: bool = False


class ClaimRequest(BaseModel):
    """Which desk's queue to claim from."""

    desk: str | None = None


class TextRequest(BaseModel):
    """A note."""

    text: str = Field(min_length=1, max_length=4000)


class ReplyRequest(BaseModel):
    """A reply: free text, or one of the canned replies in the case's language."""

    text: str | None = Field(default=None, max_length=4000)
    canned: Canned | None = None


class TransferRequest(BaseModel):
    """Move the case to another desk's queue."""

    desk: str
    reason: str = Field(default="", max_length=1000)


class EscalateRequest(BaseModel):
    """Raise the case's priority and show it to central."""

    reason: str = Field(default="", max_length=1000)


class ResolveRequest(BaseModel):
    """Close the case with an outcome."""

    outcome: Outcome
    note: str = Field(default="", max_length=4000)


class VerifyRequest(BaseModel):
    """Staff's verdict on an incident."""

    state: Literal["confirmed", "false"]
    note: str = Field(default="", max_length=2000)


class ActionResult(BaseModel):
    """What an action left behind."""

    ref: str
    status: str
    desk: str
    priority: str
    outbound_ids: list[int] = []


class DeskFigures(BaseModel):
    """A desk's figures right now."""

    desk: str
    intake: int
    open: int
    claimed: int
    waiting: int
    breached: int
    resolved_24h: int
    median_first_response_minutes: float | None


class Me(BaseModel):
    """The caller."""

    id: int
    name: str
    desk: str
    role: str
