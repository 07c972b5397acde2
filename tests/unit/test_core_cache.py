"""The short config-set cache: TTL, invalidation by own writes, no stale refills."""

from __future__ import annotations

from step_platform.core.cache import TtlCache

P = "project-1"
Q = "project-2"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(ttl: float = 5.0, **kwargs) -> tuple[TtlCache[tuple, str], Clock]:
    clock = Clock()
    return TtlCache(ttl, group=lambda key: key[0], clock=clock, **kwargs), clock


def test_a_stored_answer_is_returned_within_the_ttl():
    cache, clock = make()
    cache.put((P, None, ("a",)), "answer", cache.generation(P))
    clock.now += 4.9
    assert cache.get((P, None, ("a",))) == "answer"


def test_an_answer_expires_after_the_ttl():
    cache, clock = make()
    cache.put((P, None, None), "answer", cache.generation(P))
    clock.now += 5.0
    assert cache.get((P, None, None)) is None
    assert len(cache) == 0


def test_ttl_zero_disables_the_cache():
    cache, _ = make(ttl=0)
    cache.put((P, None, None), "answer", cache.generation(P))
    assert not cache.enabled
    assert cache.get((P, None, None)) is None


def test_keys_differ_by_account_and_types():
    cache, _ = make()
    cache.put((P, None, ("a",)), "project", cache.generation(P))
    assert cache.get((P, "acc", ("a",))) is None
    assert cache.get((P, None, ("a", "b"))) is None
    assert cache.get((P, None, None)) is None


def test_a_write_invalidates_every_answer_of_the_project():
    cache, _ = make()
    cache.put((P, None, None), "all", cache.generation(P))
    cache.put((P, "acc", ("a",)), "account", cache.generation(P))
    cache.invalidate(P)
    assert cache.get((P, None, None)) is None
    assert cache.get((P, "acc", ("a",))) is None


def test_a_write_leaves_other_projects_cached():
    cache, _ = make()
    cache.put((Q, None, None), "other", cache.generation(Q))
    cache.invalidate(P)
    assert cache.get((Q, None, None)) == "other"


def test_a_read_that_started_before_a_write_is_not_stored():
    cache, _ = make()
    generation = cache.generation(P)  # read starts
    cache.invalidate(P)  # a write completes meanwhile
    cache.put((P, None, None), "stale", generation)
    assert cache.get((P, None, None)) is None


def test_the_oldest_entries_go_beyond_the_size_bound():
    cache, _ = make(max_entries=2)
    for name in ("a", "b", "c"):
        cache.put((P, None, (name,)), name, cache.generation(P))
    assert len(cache) == 2
    assert cache.get((P, None, ("a",))) is None
    assert cache.get((P, None, ("c",))) == "c"


def test_forget_drops_the_groups_a_change_names():
    cache, _ = make()
    cache.put((P, None, None), "p", cache.generation(P))
    cache.put((Q, None, None), "q", cache.generation(Q))
    cache.forget(frozenset({P}))
    assert cache.get((P, None, None)) is None
    assert cache.get((Q, None, None)) == "q"


def test_forget_everything_also_refuses_refills_read_before_it():
    cache, _ = make()
    generation = cache.generation(P)  # a read starts
    cache.forget(None)  # a change feed started over
    cache.put((P, None, None), "stale", generation)
    assert cache.get((P, None, None)) is None
    assert len(cache) == 0


def test_an_untrusted_cache_serves_nothing():
    cache, _ = make()
    live = [True]
    cache.trust_while(lambda: live[0])
    cache.put((P, None, None), "answer", cache.generation(P))
    live[0] = False
    assert cache.get((P, None, None)) is None


def test_an_untrusted_cache_stores_nothing():
    cache, _ = make()
    live = [False]
    cache.trust_while(lambda: live[0])
    cache.put((P, None, None), "answer", cache.generation(P))
    live[0] = True
    assert cache.get((P, None, None)) is None
