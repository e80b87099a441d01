"""The design's contracts on imports, checked on the code as it is.

* Layers import one way: geo <- analysis <- packs <- render <- app_views (and app.py,
  cli.py on top). import-linter checks it, with no import cycle between the modules of
  a package (contracts in ``pyproject.toml``).
* No module imports another module's private name (``from x import _y``).

Each check is also run once on a copy of the code with a fault put in, to show it fails.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "analysis", "packs", "render", "app_views")
TOP = ("app.py", "cli.py")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the project at ``root`` (its pyproject's contracts)."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(root), "PATH": ""},
        check=False,
    )


def private_imports(root: Path) -> list[str]:
    """``file:line: from module import _name`` for every private name imported across modules."""
    found = []
    files = [p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")]
    files += [root / t for t in TOP] + list((root / "tests").rglob("*.py"))
    ours = {*PACKAGES, "cli", "app", "tests"}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] not in ours:
                continue
            found += [
                f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name.startswith("_")
            ]
    return found


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (*TOP, "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)
    (root / "tests").mkdir()
    return root


def test_the_layer_and_cycle_contracts_hold():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # analysis importing the pack layer above it
        ("analysis/rates.py", "import packs.model  # noqa: F401\n", "Layers import one way"),
        # two modules of one package importing each other
        ("geo/crs.py", "import geo.io  # noqa: F401\n", "No import cycle"),
    ],
)
def test_the_contracts_fail_on_an_upward_import_or_a_cycle(tmp_path, module, line, broken):
    root = _copy(tmp_path)
    path = root / module
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "from __future__ import annotations\n", "from __future__ import annotations\n" + line, 1
        )
    )
    run = lint_imports(root)
    assert run.returncode != 0
    assert f"{broken}" in run.stdout and "BROKEN" in run.stdout, run.stdout[-2000:]


def test_no_private_name_is_imported_from_another_module():
    assert private_imports(ROOT) == []


def test_the_private_name_check_finds_one(tmp_path):
    root = _copy(tmp_path)
    path = root / "packs" / "review.py"
    path.write_text(path.read_text(encoding="utf-8") + "\nfrom geo.io import _KEEP  # noqa\n")
    assert private_imports(root) == [
        f"packs/review.py:{len(path.read_text().splitlines())}: from geo.io import _KEEP"
    ]
