"""How the render modules depend on each other: public names only, no cycles, no hidden imports."""

from __future__ import annotations

import ast
from pathlib import Path

import render

RENDER_DIR = Path(render.__file__).resolve().parent


def _trees() -> dict[str, ast.Module]:
    return {
        f"render.{p.stem}" if p.stem != "__init__" else "render": ast.parse(p.read_text("utf-8"))
        for p in RENDER_DIR.glob("*.py")
    }


def test_no_private_name_is_imported_across_modules():
    for name, tree in _trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("render"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, (name, node.module, private)


def test_imports_are_at_module_level():
    for name, tree in _trees().items():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, (name, fn.name)


def test_render_modules_import_no_cycle():
    trees = _trees()
    graph = {
        name: {
            n.module
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module in trees and n.module != name
        }
        for name, tree in trees.items()
    }
    graph["render"] = set()  # the package re-exports; its modules never import it

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        for nxt in graph[node]:
            visit(nxt, (*path, node))

    for name in graph:
        visit(name, ())
