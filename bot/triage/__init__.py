"""Triage: the intent and priority of a person's message, with reasons staff can read.

Pure: no database, network or clock; pass ``now`` when answers hold dates.
Vocabulary and rules are data in ``data/triage/`` (``cues.yaml``, ``normalize.yaml``,
``rules.yaml``) that a non-programmer can extend; they are compiled once and cached.

Intents: ``raid`` (immigration agents at a place, now, earlier or rumoured), ``detention``
(a specific person taken, held or facing removal), ``harassment`` (threats, extortion,
abuse at work, housing, police, online, fraud), ``documents`` (passport, matrícula,
certificates, dual nationality, powers of attorney), ``programs`` (health, education,
legal advice, mobile consulates, know-your-rights), ``status`` (follow-up on an existing
case or request), ``other`` (greetings, consulate hours/address, immigration-status
questions, anything else).

Flow answers honoured by ``classify(text, answers, now=...)`` (other keys are ignored;
booleans may also be "yes"/"no"/"si"/"true"/"false"):

- ``flow`` (or ``intent``): raid, detention, harassment, documents, programs, status,
  other — sets the intent; ``human`` leaves the text's intent.
- ``when``: "now" | "earlier_today" | "days_ago" | "rumor" | ISO date — replaces the
  time read from the text (an ISO date is compared with ``now``; without ``now`` it is
  only noted). "rumor" clears the text's "happening now" cues.
- ``anyone_taken`` (bool): someone was taken.
- ``children_alone`` (bool): True → critical; False clears a text cue.
- ``children_affected`` (bool): True raises a raid/detention to at least high.
- ``safe_now`` (bool): False = in danger → critical; True clears "danger now".
- ``danger_now`` (bool): True → critical.
- ``removal_date`` (ISO date): removal within a day → critical, within a week → high
  (any date without ``now`` → high); implies intent detention when no flow is given.
- ``kind``: work, housing, police, public, online, extortion, threat_report — intent
  harassment; extortion → high.
"""

from bot.triage.classify import Triage, classify

__all__ = ["Triage", "classify"]
