"""The step service's error codes and messages, once: the handlers raise them and the OpenAPI
document describes them from the same constants (the Russian texts are the original's)."""

from __future__ import annotations

CONTEST_NOT_FOUND = ("NOT_FOUND", "Конкурс не найден.")
APPLICATION_EXISTS = ("ENTITY_EXISTS", "Задача для участия в конкурсе уже существует.")
APPLICATION_NOT_FOUND = ("NOT_FOUND", "Заявка на участие не найдена.")
TASK_DOES_NOT_EXIST = ("TASK_DOES_NOT_EXIST", "Заявка не найдена")
TASK_COMPLETED = ("TASK_COMPLETED", "Решение уже отправлено")


def described(pair: tuple[str, str]) -> str:
    """`CODE: message`, as the OpenAPI responses list them."""
    return f"{pair[0]}: {pair[1]}"
