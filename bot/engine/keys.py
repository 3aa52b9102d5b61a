"""Every catalog key the engine's code uses, declared once so the unused-key test can see them.

Flows declare their own keys in `flows/*.yaml`; `SERVICE_KEYS` are for the service, which
answers status look-ups and human requests itself.
"""

from __future__ import annotations

from typing import Final

MENU_GREETING: Final = "menu.greeting"
MENU_PROMPT: Final = "menu.prompt"
MENU_AGAIN: Final = "menu.again"
MENU_UNCLEAR: Final = "menu.unclear"
BYE: Final = "flow.bye"
HELP: Final = "help.text"
BACK_FIRST: Final = "back.first"
CANCELLED: Final = "cancel.done"
CANCEL_KEPT: Final = "cancel.kept"
EXPIRED: Final = "expired.restart"
LANG_CHOOSE: Final = "language.choose"
LANG_SET: Final = "language.set"
STATUS_ASK: Final = "status.ask"
PLACE_STATE: Final = "place.which_state"
STATUS_INVALID: Final = "status.invalid"
ERASE_CONFIRM: Final = "erase.confirm"
ERASE_DONE: Final = "erase.done"
ERASE_KEPT: Final = "erase.kept"
PRIVACY_NOTICE: Final = "privacy.notice"
PRIVACY_DECLINED: Final = "privacy.declined"
PRIVACY_LATER: Final = "privacy.later"
OFFER_HUMAN: Final = "retry.offer_human"
STATUS_GIVE_UP: Final = "status.give_up"
PANIC_OPENED: Final = "panic.opened"
CASE_STARTED: Final = "case.started"
EMERGENCY: Final = "safety.emergency"
CRISIS: Final = "safety.crisis"
CASE_OPENED: Final = "case.opened"
MEDIA_ATTACHED: Final = "media.attached"
MEDIA_KEPT: Final = "media.kept"
RETRY_SKIP_HINT: Final = "retry.skip_hint"
RETRY_REQUIRED: Final = "retry.required"
SLOT_LABEL: Final = "appointment.slot"
SLOT_BY_PHONE: Final = "appointment.by_phone"
SLOT_AT_CONSULATE: Final = "appointment.at_consulate"
SLOT_NONE: Final = "appointment.none_free"
SLOT_NONE_FIT: Final = "appointment.none_fit"
SLOT_LATER: Final = "appointment.later"
SLOT_TAKEN: Final = "appointment.taken"
SLOT_BOOKED: Final = "appointment.booked"
APPOINTMENT_SHOW: Final = "appointment.show"
APPOINTMENT_NONE: Final = "appointment.none"
APPOINTMENT_CANCELLED: Final = "appointment.cancelled"
WEEKDAYS: Final = tuple(f"weekday.{n}" for n in range(7))
MONTHS: Final = tuple(f"month.{n}" for n in range(1, 13))

# Option labels
YES: Final = "answer.yes"
NO: Final = "answer.no"
DONT_KNOW: Final = "answer.dont_know"
ACCEPT: Final = "privacy.accept"
DECLINE: Final = "privacy.decline"
ERASE_YES: Final = "erase.yes"
RIGHTS: Final = (
    "raid.rights_door",
    "raid.rights_warrant",
    "raid.rights_silent",
    "raid.rights_sign",
)
TIME_OPTIONS: Final = ("time.now", "time.earlier_today", "time.days_ago", "time.rumor")
OPTION_HUMAN: Final = "option.human"
LANG_ES: Final = "language.es"
LANG_EN: Final = "language.en"
MENU_OPTIONS: Final = (
    "menu.raid",
    "menu.detention",
    "menu.harassment",
    "menu.documents",
    "menu.programs",
    "menu.status",
    "menu.screening",
)

INPUT_KINDS: Final = (
    "choice",
    "text",
    "yes_no",
    "number",
    "location",
    "time",
    "phone",
    "dob",
    "a_number",
    "consent",
    "media",
    "date",
    "appointment",
)
RETRY: Final = {kind: f"retry.{kind}" for kind in INPUT_KINDS}

SERVICE_KEYS: Final = frozenset(
    {
        "human.requested",
        "status.intake",
        "status.open",
        "status.claimed",
        "status.waiting",
        "status.resolved",
        "status.not_found",
        "common.error",
        "common.too_fast",
        "common.busy",
        "case.forwarded",
        "appointment.reminder_day",  # bot.appointments.send_reminders
        "appointment.reminder_hours",
    }
)
# Every UPPER_CASE string constant above that holds a dotted key, plus the generated ones.
CODE_KEYS: Final = frozenset(
    {v for name, v in dict(globals()).items() if name.isupper() and isinstance(v, str) and "." in v}
    | set(TIME_OPTIONS)
    | set(RIGHTS)
    | set(MENU_OPTIONS)
    | set(RETRY.values())
    | set(WEEKDAYS)
    | set(MONTHS)
)
# Keys under these prefixes belong to other layers (bot/channels, bot/staff), which test them.
FOREIGN_PREFIXES: Final = ("channel.", "staff.")
# Placeholders that code fills at run time (everything else in a message must be a fact).
RUNTIME_PLACEHOLDERS: Final = frozenset(
    {
        "ref",
        "minutes",
        "seconds",
        "count",
        "refs",
        "desk",
        "open",
        "breached",
        "resolved",
        "step",
        "when",
        "weekday",
        "day",
        "month",
        "time",
        "place",
    }
)
