"""`step-platform configs load`: the files it takes (JSON, or the seed's section 8) and its
one-line errors."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from step_platform.devstack.configs_loader import LoadError, load_config_set, parse_config_set
from step_platform.devstack.ports import free_ports
from step_platform.seed import seed_config_set

# The block of section 8 of the deployment guide, verbatim (no outer braces).
SECTION_8 = Path(__file__).parents[2] / "deploy" / "configs" / "seed-section-8.txt"


def section_8_block() -> str:
    return SECTION_8.read_text(encoding="utf-8")


def test_a_json_object_is_a_config_set() -> None:
    assert parse_config_set(json.dumps(seed_config_set())) == seed_config_set()


def test_the_section_8_block_as_printed_is_the_seed_set() -> None:
    assert parse_config_set(section_8_block()) == seed_config_set()


def test_markdown_fences_around_the_block_are_ignored() -> None:
    fenced = "```\n" + section_8_block() + "\n  ```\n"
    assert parse_config_set(fenced) == seed_config_set()


def test_a_trailing_comma_after_the_last_type_is_tolerated() -> None:
    assert parse_config_set('"node_id": {"value": "x"},\n') == {"node_id": {"value": "x"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("[1, 2]", "non-empty object"),
        ("{}", "non-empty object"),
        ('"node_id": {"value": ', "neither a JSON object nor a section-8 block"),
        ('{"node id": {}}', r"must match \[A-Za-z0-9_\]\+"),
        ('{"node_id": null}', "has no data"),
    ],
)
def test_unusable_files_are_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        parse_config_set(text, source="set.txt")


def test_the_error_names_the_file() -> None:
    with pytest.raises(LoadError, match=r"^set\.txt: "):
        parse_config_set("nonsense", source="set.txt")


def test_an_unreachable_registry_is_one_line_with_the_way_out() -> None:
    port = free_ports(1)[0]  # nothing listens there
    with pytest.raises(LoadError) as error:
        load_config_set(
            {"node_id": {"node_id": str(uuid.uuid4())}},
            project_id=str(uuid.uuid4()),
            registry_url=f"http://127.0.0.1:{port}",
        )
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"registry at http://127.0.0.1:{port} is not reachable")
    assert "--registry-url" in message


def test_a_project_id_that_is_not_a_uuid_is_refused_before_any_call() -> None:
    with pytest.raises(LoadError, match="--project-id='p1' is not a UUID"):
        load_config_set({"node_id": {}}, project_id="p1", registry_url="http://127.0.0.1:1")
