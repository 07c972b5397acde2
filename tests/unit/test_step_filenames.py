"""Upload file names reach Raida without directories, controls, bidi overrides or dot names."""

from __future__ import annotations

import pytest

from step_platform.contests.forms import safe_filename


@pytest.mark.parametrize("name", ["..", ".", "...", "a/..", "..\\..", " . "])
def test_dot_names_are_no_name(name: str) -> None:
    assert safe_filename(name) == ""


def test_a_bidi_override_is_replaced() -> None:
    assert safe_filename("report\u202etxt.exe") == "report_txt.exe"


def test_zero_width_and_control_characters_are_replaced() -> None:
    assert safe_filename("a\u200bb\x07c.pdf") == "a_b_c.pdf"


def test_an_ordinary_name_is_kept() -> None:
    assert safe_filename("../../etc/solution v2..final.py") == "solution v2..final.py"
