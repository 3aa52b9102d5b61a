"""Only bot/lifecycle.py writes a case's status: nowhere else in bot/ assigns `.status` a
`CaseStatus`, passes `status=CaseStatus…` (constructors, bulk UPDATE values), or builds a
`{"status": CaseStatus…}` mapping. Read from the syntax tree, so `a.status, a.x = (…)` and
multi-line calls are caught too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
OWNER = "bot/lifecycle.py"
PENDING: frozenset[str] = frozenset()  # files allowed to write a status for now: none
CASE_NAMES = ("case", "item", "head", "parent", "child")


def _mentions_case_status(node: ast.AST | None) -> bool:
    return node is not None and any(
        isinstance(n, ast.Name) and n.id == "CaseStatus" for n in ast.walk(node)
    )


def _is_case_status_target(target: ast.expr, value: ast.expr | None) -> bool:
    if not (isinstance(target, ast.Attribute) and target.attr == "status"):
        return False
    owner = ast.unparse(target.value).lower()
    return _mentions_case_status(value) or any(name in owner for name in CASE_NAMES)


def _pairs(target: ast.expr, value: ast.expr | None) -> list[tuple[ast.expr, ast.expr | None]]:
    """(target, value) pairs, element by element for tuple assignments."""
    if isinstance(target, ast.Tuple | ast.List):
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
            return [p for t, v in zip(target.elts, value.elts, strict=True) for p in _pairs(t, v)]
        return [p for t in target.elts for p in _pairs(t, value)]
    return [(target, value)]


def _other_write(node: ast.AST) -> bool:
    """`status=CaseStatus…`, `{"status": CaseStatus…}` or `setattr(x, "status", …)`."""
    if isinstance(node, ast.keyword):
        return node.arg == "status" and _mentions_case_status(node.value)
    if isinstance(node, ast.Dict):
        return any(
            isinstance(k, ast.Constant) and k.value == "status" and _mentions_case_status(v)
            for k, v in zip(node.keys, node.values, strict=True)
        )
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr":
        return len(node.args) > 1 and ast.unparse(node.args[1]) == "'status'"
    return False


def status_writes(source: str) -> list[int]:
    """Line numbers where the source writes a case status."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            pairs = [p for target in node.targets for p in _pairs(target, node.value)]
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            pairs = _pairs(node.target, node.value)
        else:
            if _other_write(node):
                lines.add(getattr(node, "lineno", 0))
            continue
        lines |= {t.lineno for t, v in pairs if _is_case_status_target(t, v)}
    return sorted(lines)


def test_the_checker_finds_every_form_of_status_write() -> None:
    """It catches plain, tuple, keyword and mapping writes, not other models' statuses."""
    source = """
case.status = CaseStatus.open
item.status, item.outcome = (CaseStatus.resolved, "x")
head.status = target
Case(ref="x", status=CaseStatus.intake)
update(_T).values(status=CaseStatus.claimed.value)
values = {"status": CaseStatus.open.value}
setattr(case, "status", "open")
message.status = InboundStatus.processed
row.status = OutboundStatus.sent
query.where(Case.status == CaseStatus.open)
"""
    assert status_writes(source) == [2, 3, 4, 5, 6, 7, 8]


def test_only_lifecycle_writes_a_case_status() -> None:
    """No module of bot/ but bot/lifecycle.py writes a case's status."""
    found = {
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for path in sorted(BOT.rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in {OWNER, *PENDING}
        and "migrations" not in path.parts
        for line in status_writes(path.read_text(encoding="utf-8"))
    }
    assert found == set()
