"""Cost caps on public input, in one place: every service refuses over-limit requests the same
way, a 400 `LIMIT_EXCEEDED` naming the limit (`detail.limit`, `detail.max`), before any work.

The caps bound what one request can cost: a JSON body's size and depth (parsing, validation,
what a stored row can later cost its readers), header bytes, and the registry's query terms
(each `field`, `search` term, ordering token and `data` filter adds to the SQL a statement runs).

The registry's query caps count decoded characters, not the encoded bytes on the wire (a
character takes up to 12 of those), so its OpenAPI document can state them as `maxLength`s:
each value of a list's query has its own cap, and the whole query's is at least their sum, so
no request the document admits is refused by it (tests/unit/test_registry_document_patterns.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError


@dataclass(frozen=True)
class Limits:
    json_bytes: int = 1024 * 1024  # a JSON body (uploads have their own limit)
    json_depth: int = 32  # nesting of arrays and objects
    header_bytes: int = 16 * 1024  # names and values of all request headers together
    field_terms: int = 30  # registry `field=` values (one per column at most is useful)
    search_terms: int = 20  # registry `search=` words
    ordering_tokens: int = 10  # registry `ordering=` columns
    data_filters: int = 20  # registry `data=` filters
    data_path_depth: int = 8  # keys in one `data=` filter's path
    list_value_chars: int = 8 * 1024  # one comma list of a registry list (`id`, `object_type`...)
    term_chars: int = 1024  # one `search`, `data`, `field`, `ordering` or `meta_status` value
    query_chars: int = 128 * 1024  # a whole query string, decoded


LIMITS = Limits()

MESSAGES = {
    "en": "Request exceeds the limit {limit} = {max}.",
    "ru": "Запрос превышает ограничение {limit} = {max}.",
}


class LimitExceeded(ApiError):
    """400 naming the cap that was passed, in the service's language."""

    def __init__(self, limit: str, maximum: int, language: str = "en") -> None:
        message = MESSAGES[language].format(limit=limit, max=maximum)
        super().__init__(400, "LIMIT_EXCEEDED", message, limit=limit, max=maximum)


def check(limit: str, count: int, language: str = "en") -> None:
    """Raise `LimitExceeded` when `count` is over the cap named `limit` in `LIMITS`."""
    maximum = getattr(LIMITS, limit)
    if count > maximum:
        raise LimitExceeded(limit, maximum, language)
