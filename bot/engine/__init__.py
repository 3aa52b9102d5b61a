"""The conversation engine: declarative flows, a pure runner, answer parsing, case references.

    flows = load_flows()                      # once, at start (validated)
    step = advance(flows, state, inbound, ctx)
    # apply step.effects and send step.replies in one transaction; store step.state

See `model` for the data shapes and the effects, `spec` for the flow format, `commands` for
the global commands and `runner` for the order in which a message is read.
"""

from __future__ import annotations

from bot.engine.flows import FLOWS_DIR, Flows, FlowSpec, StepSpec, load_flow, load_flows
from bot.engine.keys import CODE_KEYS, RUNTIME_PLACEHOLDERS, SERVICE_KEYS
from bot.engine.model import (
    AttachEvidence,
    Context,
    ConversationState,
    Effect,
    EraseData,
    Hints,
    Inbound,
    LookupStatus,
    Media,
    Option,
    Reply,
    RequestHuman,
    SaveReport,
    Step,
)
from bot.engine.refs import find_ref, format_ref, is_ref, new_ref, normalize_ref, ref_from_int
from bot.engine.runner import advance
from bot.engine.validate import check_flow

__all__ = [
    "CODE_KEYS",
    "FLOWS_DIR",
    "RUNTIME_PLACEHOLDERS",
    "SERVICE_KEYS",
    "AttachEvidence",
    "Context",
    "ConversationState",
    "Effect",
    "EraseData",
    "FlowSpec",
    "Flows",
    "Hints",
    "Inbound",
    "LookupStatus",
    "Media",
    "Option",
    "Reply",
    "RequestHuman",
    "SaveReport",
    "Step",
    "StepSpec",
    "advance",
    "check_flow",
    "find_ref",
    "format_ref",
    "is_ref",
    "load_flow",
    "load_flows",
    "new_ref",
    "normalize_ref",
    "ref_from_int",
]
