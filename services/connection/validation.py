"""Checks for client payloads. Each raises :class:`InvalidArgument` naming the field, so a client developer
reads what to fix instead of a traceback."""

from __future__ import annotations

from typing import Any

from switchboard.errors import InvalidArgument

_MISSING = object()


def payload(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidArgument("the payload must be a JSON object")
    return data


def string(data: dict[str, Any], field: str, *, required: bool = True, max_len: int = 255,
           default: str = "") -> str:
    value = data.get(field, _MISSING)
    if value is _MISSING or value is None or value == "":
        if required:
            raise InvalidArgument(f"{field} is required")
        return default
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string")
    if len(value) > max_len:
        raise InvalidArgument(f"{field} is longer than {max_len} characters")
    return value


def integer(data: dict[str, Any], field: str, *, required: bool = True, minimum: int = 0,
            maximum: int = 2**63 - 1, default: int = 0) -> int:
    """An integer, also accepted as a numeric string (the spec shows ids both ways)."""
    value = data.get(field, _MISSING)
    if value is _MISSING or value is None or value == "":
        if required:
            raise InvalidArgument(f"{field} is required")
        return default
    if isinstance(value, bool):
        raise InvalidArgument(f"{field} must be an integer")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int):
        raise InvalidArgument(f"{field} must be an integer")
    if not minimum <= value <= maximum:
        raise InvalidArgument(f"{field} must be between {minimum} and {maximum}")
    return value


def integers(data: dict[str, Any], field: str, *, max_items: int = 500) -> list[int]:
    values = data.get(field)
    if not isinstance(values, list) or not values:
        raise InvalidArgument(f"{field} must be a non-empty list of ids")
    if len(values) > max_items:
        raise InvalidArgument(f"{field} holds more than {max_items} ids")
    return [integer({field: v}, field, minimum=1) for v in values]


def boolean(data: dict[str, Any], field: str, default: bool) -> bool:
    value = data.get(field, default)
    if not isinstance(value, bool):
        raise InvalidArgument(f"{field} must be true or false")
    return value


def mapping(data: dict[str, Any], field: str) -> dict[str, Any]:
    value = data.get(field) or {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"{field} must be an object")
    return value
