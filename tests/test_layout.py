"""The layering the code promises: no import cycles, and only `bot/slack/` talks to Slack's libraries."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"


def _module(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every module of bot/ and the modules it imports, at any depth in the file."""
    found: dict[str, set[str]] = {}
    for path in sorted(BOT.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[_module(path)] = names
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_the_app_imports_one_that_imports_it_back() -> None:
    imports = _imports()
    graph = {module: {name for name in names if name in imports and name != module} for module, names in imports.items()}
    assert "bot.slack.services" in graph and "bot.slack.app" in graph
    assert _cycles(graph) == []


def test_only_the_slack_package_imports_slack_libraries() -> None:
    outside = {
        module
        for module, names in _imports().items()
        if not module.startswith("bot.slack") and any(name.split(".")[0] in {"slack_bolt", "slack_sdk"} for name in names)
    }
    assert outside == set()
