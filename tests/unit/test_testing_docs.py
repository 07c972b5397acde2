"""docs/testing.md shows the consumer test that `make test` runs, verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_docs_consumer_example_is_the_consumer_test_we_run() -> None:
    doc = (ROOT / "docs" / "testing.md").read_text()
    example = (ROOT / "tests" / "consumer" / "test_from_docs.py").read_text()
    assert f"```python\n{example}```" in doc
