"""`make lint` type-checks the code (mypy, settings in pyproject.toml; strict on core and the
services): a type error in core fails it, the tree as it is passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MYPY = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]


def run_mypy(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MYPY, *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def core_module(tmp: Path, name: str, source: str) -> Path:
    """A module of `step_platform.core` (strictly checked) written under `tmp`."""
    package = tmp / "step_platform" / "core"
    package.mkdir(parents=True)
    (tmp / "step_platform" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    module = package / f"{name}.py"
    module.write_text(source)
    return module


def test_a_type_error_in_core_fails_the_check(tmp_path: Path) -> None:
    result = run_mypy(core_module(tmp_path, "typo", 'def port() -> int:\n    return "8000"\n'))
    assert result.returncode == 1, result.stdout
    assert 'Incompatible return value type (got "str", expected "int")' in result.stdout


def test_an_untyped_function_in_core_fails_the_strict_check(tmp_path: Path) -> None:
    result = run_mypy(core_module(tmp_path, "untyped", "def port(value):\n    return value\n"))
    assert result.returncode == 1, result.stdout
    assert "[no-untyped-def]" in result.stdout
