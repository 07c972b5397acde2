"""raida-mock keeps rendered search answers until the next write, within a bound."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from raida_mock import store as store_module
from raida_mock.fixtures import default_seed, resolve
from raida_mock.store import Store


def loaded() -> Store:
    store = Store()
    store.load(resolve(default_seed(), datetime.now(UTC)))
    return store


class Renders:
    """A render function that counts its calls."""

    def __init__(self, content: bytes = b"[]") -> None:
        self.calls = 0
        self.content = content

    def __call__(self) -> bytes:
        self.calls += 1
        return self.content


def test_an_answer_is_rendered_once_while_nothing_is_written():
    store = loaded()
    node = next(iter(store.nodes.values()))
    render = Renders()
    assert store.answer(node, "q", render) == store.answer(node, "q", render) == b"[]"
    assert render.calls == 1


def test_a_write_makes_the_next_answer_render_again():
    store = loaded()
    node = next(iter(store.nodes.values()))
    render = Renders()
    store.answer(node, "q", render)
    task = next(iter(node.tasks.values()))
    store.update_task(node, task, {"title": "changed"})
    store.answer(node, "q", render)
    assert render.calls == 2


def test_a_failed_render_is_not_remembered():
    store = loaded()
    node = next(iter(store.nodes.values()))
    calls = []

    def failing() -> bytes:
        calls.append(1)
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            store.answer(node, "q", failing)
    assert len(calls) == 2


def test_the_oldest_answers_go_first_beyond_the_count_bound(monkeypatch):
    monkeypatch.setattr(store_module, "ANSWERS_MAX", 2)
    store = loaded()
    node = next(iter(store.nodes.values()))
    renders = {key: Renders() for key in ("a", "b", "c")}
    for key in ("a", "b", "c", "c", "b", "a"):
        store.answer(node, key, renders[key])
    assert {k: r.calls for k, r in renders.items()} == {"a": 2, "b": 1, "c": 1}


def test_an_answer_over_a_quarter_of_the_byte_bound_is_not_kept(monkeypatch):
    monkeypatch.setattr(store_module, "ANSWERS_MAX_BYTES", 40)
    store = loaded()
    node = next(iter(store.nodes.values()))
    small, large = Renders(b"x" * 10), Renders(b"x" * 11)
    for _ in range(2):
        store.answer(node, "small", small)
        store.answer(node, "large", large)
    assert (small.calls, large.calls) == (1, 2)
