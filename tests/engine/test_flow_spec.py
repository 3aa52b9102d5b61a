"""Flow files are checked on load; a mistake names the file, the step and the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.engine import ConversationState, Inbound, SaveReport, advance, load_flow, load_flows
from bot.errors import FlowSpecError
from bot.i18n import catalog
from tests.engine.support import ctx

GOOD = """
id: {name}
intent: other
start: ask
steps:
  ask:
    kind: consent
    say: privacy.notice
    save_as: agreed
    branches: {{yes: end, no: bye}}
  end:
    kind: end
  bye:
    kind: done
    say: flow.bye
"""


def write(tmp_path: Path, body: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body).format(name=name), encoding="utf-8")
    return path


def test_a_valid_flow_loads(tmp_path: Path) -> None:
    spec = load_flow(write(tmp_path, GOOD), catalog())
    assert spec.start == "ask" and spec.steps["ask"].branches == {"yes": "end", "no": "bye"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            ("  bye:\n", "  lost:\n    kind: done\n    say: flow.bye\n  bye:\n"),
            "step 'lost': unreachable",
        ),
        (("no: bye", "no: nowhere"), "step 'ask': leads to unknown step 'nowhere'"),
        (("say: privacy.notice", "say: no.such.key"), "step 'ask': message 'no.such.key' missing"),
        (("kind: consent", "kind: telepathy"), "step 'ask': unknown kind 'telepathy'"),
        (("    save_as: agreed\n", ""), "step 'ask': needs save_as"),
        (("{{yes: end, no: bye}}", "{{yes: end}}"), "step 'ask': dead end"),
        (("start: ask", "start: nope"), "start step 'nope' does not exist"),
        (("intent: other", "intent: party"), "intent must be one of"),
        (("id: {name}", "id: other_name"), "id must be 'sample'"),
        (
            ("    save_as: agreed\n", "    save_as: agreed\n    colour: red\n"),
            "field(s) ['colour'] not allowed for kind consent",
        ),
    ],
)
def test_a_broken_flow_names_file_step_and_reason(
    tmp_path: Path, change: tuple[str, str], reason: str
) -> None:
    body = GOOD.replace(*change)
    with pytest.raises(FlowSpecError) as caught:
        load_flow(write(tmp_path, body), catalog())
    assert str(caught.value).startswith("sample.yaml: ")
    assert reason in str(caught.value)


def test_a_loop_without_an_end_is_a_dead_end(tmp_path: Path) -> None:
    body = """
    id: {name}
    intent: other
    start: a
    steps:
      a: {{kind: text, say: flow.ask_help, save_as: x, next: b}}
      b: {{kind: message, say: flow.bye, next: a}}
      c: {{kind: done, say: flow.bye}}
    """
    with pytest.raises(FlowSpecError, match=r"dead end|unreachable"):
        load_flow(write(tmp_path, body), catalog())


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(FlowSpecError, match=r"broken\.yaml: not valid YAML"):
        load_flow(path, catalog())


def test_no_flows(tmp_path: Path) -> None:
    with pytest.raises(FlowSpecError, match="no flows"):
        load_flows(tmp_path)


def test_consent_step_branches(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "raid")
    flows = load_flows(tmp_path)
    state = ConversationState(flow="raid", step="ask", privacy_accepted=True)
    yes = advance(flows, state, Inbound("acepto", "sms"), ctx())
    assert isinstance(yes.effects[0], SaveReport) and yes.effects[0].answers["agreed"] is True
    no = advance(flows, state, Inbound("no", "sms"), ctx())
    assert not no.effects and no.state.flow is None
    unsure = advance(flows, state, Inbound("no sé", "sms"), ctx())
    assert unsure.state.step == "ask" and unsure.state.misses == 1
