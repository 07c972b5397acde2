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


def test_a_type_error_in_core_fails_the_check(tmp_path: Path) -> None:
    leak = tmp_path / "step_platform" / "core"
    leak.mkdir(parents=True)
    (tmp_path / "step_platform" / "__init__.py").write_text("")
    (leak / "__init__.py").write_text("")
    bad = leak / "typo.py"
    bad.write_text('def port() -> int:\n    return "8000"\n')
    result = run_mypy(bad)
    assert result.returncode == 1, result.stdout
    assert 'Incompatible return value type (got "str", expected "int")' in result.stdout


def test_an_untyped_function_in_core_fails_the_strict_check(tmp_path: Path) -> None:
    leak = tmp_path / "step_platform" / "core"
    leak.mkdir(parents=True)
    (tmp_path / "step_platform" / "__init__.py").write_text("")
    (leak / "__init__.py").write_text("")
    bad = leak / "untyped.py"
    bad.write_text("def port(value):\n    return value\n")
    result = run_mypy(bad)
    assert result.returncode == 1, result.stdout
    assert "[no-untyped-def]" in result.stdout
