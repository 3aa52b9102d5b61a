"""Triage: the intent and priority of a person's message, with reasons staff can read.

Pure: no database, network or clock; pass ``now`` when answers hold dates. The labels are
the project's label guide (``tests/data/LABELS.md``).

How a message is read (``classify.py``): normalise (accents, emoji, texting shorthand from
``data/triage/normalize.yaml``) → correct long unknown words towards the rules' vocabulary
(``spelling.py``) → find the cues of ``data/triage/cues.yaml`` (with negation) → score with
the learned model (``model.py``: character n-grams, words and cues, a logistic regression
over intent × priority trained by ``hotline triage train``, weights committed in
``data/triage/model.npz``) → intent and priority; danger overrides and caps from
``data/triage/rules.yaml`` raise what must never be missed (happening now, hiding, locked
in, hostages, weapons, children alone, someone taken today) and lower questions where
nothing happened. ``Triage.needs_review`` flags low-confidence verdicts.

Intents: ``raid``, ``detention``, ``harassment``, ``documents``, ``programs``, ``status``,
``other`` (see the label guide; know-your-rights questions are ``raid``/low, visas, asylum
and "arreglar papeles" are ``programs``).

Flow answers honoured by ``classify(text, answers, now=...)`` (other keys are ignored;
booleans may also be "yes"/"no"/"si"/"true"/"false"). A flow sets the intent; any stated
fact below makes the priority rules (``rules.yaml`` ``priority``) decide the priority:

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
