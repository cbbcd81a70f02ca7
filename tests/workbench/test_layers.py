"""The package's floors: imports go down only, no cycles, and local imports say why.

The layers, lowest first (``workbench/<layer>/__init__.py`` says what each owns):
``errors`` → ``core`` → ``codegen`` → ``checks`` → ``render`` → ``verify`` → ``notebook``
→ ``cli``. A module may import its own layer and the layers below it (the verifier
prints its messages with the renderer's printers; no renderer imports the verifier).
The package's root modules (the facade and the old import paths kept for one release)
may import anything, and no layer imports them.

Read from the source with :mod:`ast`, so the test needs no import of the package and
sees function-local imports too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "workbench"

# Each layer with the layers it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "core": {"errors"},
    "codegen": {"errors", "core"},
    "checks": {"errors", "core", "codegen"},
    "render": {"errors", "core", "codegen", "checks"},
    "verify": {"errors", "core", "codegen", "checks", "render"},
    "notebook": {"errors", "core", "codegen", "checks", "render", "verify"},
    "cli": {"errors", "core", "codegen", "checks", "render", "verify", "notebook"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    """``workbench.core.rules`` → ``core``; a root module (facade, old path) → None."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    if parts[1] in ALLOWED:
        return parts[1]
    return None


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported workbench module, line, inside a function) for every import in a file."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, int, bool]] = []
    known = modules()

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("workbench"):
                        found.append((alias.name, child.lineno, local))
            elif (
                isinstance(child, ast.ImportFrom)
                and child.level == 0
                and (child.module or "").startswith("workbench")
            ):
                for alias in child.names:
                    sub = f"{child.module}.{alias.name}"
                    found.append((sub if sub in known else str(child.module), child.lineno, local))
            visit(child, inside)

    visit(tree, False)
    return found


def type_checking_lines(path: Path) -> set[int]:
    """Lines inside ``if TYPE_CHECKING:`` blocks: annotations only, never run."""
    tree = ast.parse(path.read_text())
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def edges() -> list[tuple[str, str, int, bool]]:
    out = []
    for name, path in modules().items():
        skip = type_checking_lines(path)
        for target, line, local in imports(path):
            if line not in skip:
                out.append((name, target, line, local))
    return out


def test_every_layer_has_a_docstring_saying_what_it_may_import():
    for layer in ALLOWED:
        if layer == "errors":
            continue
        init = PACKAGE / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc or "may import" in doc, f"{init} must say what it may import"


def test_imports_go_down_only():
    wrong = []
    for source, target, line, _ in edges():
        here, there = layer_of(source), layer_of(target)
        if there is None and target not in ("workbench", "workbench.errors"):
            # A root module: the facade or an old path; no layer may lean on it.
            if here is not None:
                wrong.append(f"{source}:{line} imports the root module {target}")
            continue
        if here is None or there is None or there == here:
            continue
        if there not in ALLOWED[here]:
            wrong.append(f"{source}:{line} ({here}) imports {target} ({there})")
    assert not wrong, "imports that run up or sideways:\n" + "\n".join(wrong)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for source, target, _, _ in edges():
        if target != source and target in modules():
            graph.setdefault(source, set()).add(target)
    # Tarjan-free: depth-first search for a back edge, reporting the cycle.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            pytest.fail("import cycle: " + " → ".join(cycle))


def test_function_local_imports_say_why():
    """A function-local import is for a lazy start-up only, and its line says so."""
    silent = []
    for name, path in modules().items():
        lines = path.read_text().splitlines()
        for target, line, local in imports(path):
            if local and "lazy" not in lines[line - 1] and "lazy" not in lines[line - 2]:
                silent.append(f"{name}:{line} imports {target} inside a function")
    assert not silent, "say '# lazy: …' beside each:\n" + "\n".join(silent)


def test_the_checker_sees_a_planted_upward_import(tmp_path, monkeypatch):
    """The test can fail: a core module importing a check is reported."""
    fake = tmp_path / "workbench"
    (fake / "core").mkdir(parents=True)
    (fake / "checks").mkdir()
    (fake / "core" / "model.py").write_text("from workbench.checks.runner import run\n")
    (fake / "checks" / "runner.py").write_text("def run(): ...\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    with pytest.raises(AssertionError, match=r"imports workbench\.checks\.runner"):
        test_imports_go_down_only()
    (fake / "checks" / "runner.py").write_text("from workbench.core import model\n")
    (fake / "core" / "model.py").write_text("import workbench.checks.runner\n")
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        test_no_import_cycles()
