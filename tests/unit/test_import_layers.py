"""The import layers that `make lint` enforces (import-linter, contracts in pyproject.toml).

Each test copies the sources to a temporary tree, adds one import the layers forbid, and runs
the same `lint-imports` command as `make lint` on it: the contract must break. The clean tree
keeps every contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_contracts(tree: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}{os.pathsep}{tree / 'simulators'}")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("src", "simulators"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_as_it_is_keeps_every_contract(tree: Path) -> None:
    result = run_contracts(tree)
    assert result.returncode == 0, result.stdout + result.stderr


LEAKS = [
    ("src/step_platform/core/leak.py", "step_platform.registry.app", "core imports no"),
    ("src/step_platform/configs/leak.py", "step_platform.contests.rql", "never import each other"),
    ("src/step_platform/contests/leak.py", "step_platform.devstack.stack", "never import devstack"),
    ("simulators/raida_mock/leak.py", "step_platform.devstack.stack", "simulators never import"),
]


@pytest.mark.parametrize(("module", "imported", "contract"), LEAKS)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, imported: str, contract: str
) -> None:
    (tree / module).write_text(f"import {imported}\n")
    result = run_contracts(tree)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout
    assert "BROKEN" in result.stdout


def test_the_asgi_factories_importing_the_cli_break_the_contract(tree: Path) -> None:
    asgi = tree / "src/step_platform/asgi.py"
    asgi.write_text(asgi.read_text() + "\nimport step_platform.cli  # noqa: E402\n")
    result = run_contracts(tree)
    assert result.returncode != 0
    assert "the ASGI factories do not import the CLI BROKEN" in result.stdout
