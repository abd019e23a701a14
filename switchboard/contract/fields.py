"""Field types of the contract. Each field knows its limits once and checks a value two ways: ``parse`` for a
JSON value a client sent (types are not trusted: numeric strings, wrong types, absent fields) and ``check`` for a
value already typed by protobuf (only the limits apply). Both raise :class:`InvalidArgument` naming the field.

Fields are built once at import; checking allocates nothing beyond the parsed value."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from switchboard.errors import InvalidArgument

MAX_ID = 2**63 - 1  # BIGINT
# Only ASCII digits are numbers: ``str.isdigit`` also takes "²" and "１２", and ``int()`` takes "１２" and " 5 ".
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")
# JSON may escape a character as ``\uXXXX`` (6 bytes), and one outside the BMP as a surrogate pair (12 bytes):
# the most bytes a single character of a string field can take on the wire.
MAX_JSON_BYTES_PER_CHAR = 12


def ascii_int(value: str) -> int | None:
    """The integer a string spells with ASCII digits (an optional leading ``-``), or None."""
    return int(value) if _ASCII_INT.fullmatch(value) else None


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """One field of an event payload or an RPC request."""

    name: str
    required: bool = False
    doc: str = ""
    kind: ClassVar[str] = "any"

    def parse(self, data: dict[str, Any]) -> Any:
        """The field's value in a client's JSON payload, converted and checked; its default when absent."""
        value = data.get(self.name)
        if value is None or value == "":
            if self.required:
                raise InvalidArgument(f"{self.name} is required")
            return self.default_value()
        return self.convert(value)

    def default_value(self) -> Any:
        return None

    def convert(self, value: Any) -> Any:
        return value

    def check(self, value: Any) -> Any:
        """A protobuf-typed value: absent is its zero value; only the limits are checked."""
        if not value:
            if self.required:
                raise InvalidArgument(f"{self.name} is required")
            return value
        return self.convert(value)

    def limits(self) -> str:
        """The limits, for the generated docs."""
        return ""

    def max_json_bytes(self) -> int:
        """The most bytes a legal value takes in JSON (for the largest legal packet)."""
        return 32


@dataclasses.dataclass(frozen=True, slots=True)
class Str(Field):
    max_len: int = 255
    default: str = ""
    choices: frozenset[str] | None = None
    nonblank: bool = False  # whitespace only counts as empty
    ascii: bool = False  # tokens, ids from other systems: never escaped, one byte per character on the wire
    kind: ClassVar[str] = "string"

    def default_value(self) -> str:
        return self.default

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidArgument(f"{self.name} must be a string")
        if len(value) > self.max_len:
            raise InvalidArgument(f"{self.name} is longer than {self.max_len} characters")
        if self.ascii and not value.isascii():
            raise InvalidArgument(f"{self.name} must be ASCII")
        if self.nonblank and not value.strip():
            raise InvalidArgument(f"{self.name} must not be blank")
        if self.choices is not None and value not in self.choices:
            raise InvalidArgument(f"{self.name} must be one of {', '.join(sorted(self.choices))}")
        return value

    def check(self, value: Any) -> str:
        return Field.check(self, value) or self.default

    def limits(self) -> str:
        parts = [f"≤ {self.max_len} chars"]
        if self.choices is not None:
            parts.append("one of " + ", ".join(f"`{c}`" for c in sorted(self.choices)))
        if self.nonblank:
            parts.append("not blank")
        if self.ascii:
            parts.append("ASCII")
        if self.default:
            parts.append(f"default `{self.default}`")
        return "; ".join(parts)

    def max_json_bytes(self) -> int:
        return 2 + self.max_len * (1 if self.ascii else MAX_JSON_BYTES_PER_CHAR)


@dataclasses.dataclass(frozen=True, slots=True)
class Int(Field):
    """An integer; a string of ASCII digits is accepted too (the spec shows ids both ways)."""

    minimum: int = 0
    maximum: int = MAX_ID
    default: int = 0
    clamp: bool = False  # above the maximum gets the maximum (page sizes), instead of an error
    kind: ClassVar[str] = "integer"

    def default_value(self) -> int:
        return self.default

    def convert(self, value: Any) -> int:
        if isinstance(value, str):
            parsed = ascii_int(value)
            if parsed is None:
                raise InvalidArgument(f"{self.name} must be an integer")
            value = parsed
        elif isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{self.name} must be an integer")
        if value > self.maximum and self.clamp:
            return self.maximum
        if not self.minimum <= value <= self.maximum:
            raise InvalidArgument(f"{self.name} must be between {self.minimum} and {self.maximum}")
        return value

    def check(self, value: Any) -> int:
        if value == 0 and not self.required:
            return self.default
        if value == 0 and self.minimum > 0:
            raise InvalidArgument(f"{self.name} is required")
        return self.convert(value)

    def limits(self) -> str:
        top = "≤ 2⁶³−1" if self.maximum == MAX_ID else f"≤ {self.maximum}" + (" (capped)" if self.clamp else "")
        parts = [f"≥ {self.minimum}", top]
        if self.default:
            parts.append(f"default {self.default}")
        return "; ".join(parts)


@dataclasses.dataclass(frozen=True, slots=True)
class Bool(Field):
    default: bool = False
    kind: ClassVar[str] = "boolean"

    def parse(self, data: dict[str, Any]) -> bool:
        value = data.get(self.name, self.default)
        if not isinstance(value, bool):
            raise InvalidArgument(f"{self.name} must be true or false")
        return value

    def limits(self) -> str:
        return f"default {str(self.default).lower()}"


@dataclasses.dataclass(frozen=True, slots=True)
class IdList(Field):
    """A non-empty list of positive ids (integers or ASCII-digit strings)."""

    max_items: int = 500
    kind: ClassVar[str] = "list of ids"

    def convert(self, value: Any) -> list[int]:
        if not isinstance(value, list) or not value:
            raise InvalidArgument(f"{self.name} must be a non-empty list of ids")
        if len(value) > self.max_items:
            raise InvalidArgument(f"{self.name} holds more than {self.max_items} ids")
        return [_positive_id(v, self.name) for v in value]

    def check(self, value: Sequence[int]) -> list[int]:
        if len(value) > self.max_items:
            raise InvalidArgument(f"at most {self.max_items} {self.name} per call")
        for item in value:
            if item <= 0:
                raise InvalidArgument(f"{self.name} must be positive ids")
        return list(value)

    def limits(self) -> str:
        return f"1–{self.max_items} ids"

    def max_json_bytes(self) -> int:
        return 2 + self.max_items * 22


@dataclasses.dataclass(frozen=True, slots=True)
class StrList(Field):
    """A list of short strings (connection ids); only RPCs carry one."""

    max_items: int = 1000
    item_max_len: int = 255
    kind: ClassVar[str] = "list of strings"

    def check(self, value: Sequence[str]) -> list[str]:
        if len(value) > self.max_items:
            raise InvalidArgument(f"at most {self.max_items} {self.name} per call")
        for item in value:
            if not item or len(item) > self.item_max_len:
                raise InvalidArgument(f"{self.name} must hold ids of 1–{self.item_max_len} characters")
        return list(value)

    def limits(self) -> str:
        return f"≤ {self.max_items} items of ≤ {self.item_max_len} chars"


@dataclasses.dataclass(frozen=True, slots=True)
class Obj(Field):
    """A nested object with its own fields (``device_info``); absent is an empty object."""

    fields: tuple[Field, ...] = ()
    kind: ClassVar[str] = "object"

    def default_value(self) -> dict[str, Any]:
        return {f.name: f.default_value() for f in self.fields}

    def convert(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidArgument(f"{self.name} must be an object")
        return {f.name: f.parse(value) for f in self.fields}

    def check(self, value: Any) -> dict[str, Any]:
        return {f.name: f.check(getattr(value, f.name)) for f in self.fields}

    def limits(self) -> str:
        return "{" + ", ".join(f"{f.name}: {f.limits()}" for f in self.fields) + "}"

    def max_json_bytes(self) -> int:
        return 2 + sum(len(f.name) + 4 + f.max_json_bytes() for f in self.fields)


def _positive_id(value: Any, name: str) -> int:
    parsed = ascii_int(value) if isinstance(value, str) else value
    if isinstance(parsed, bool) or not isinstance(parsed, int) or not 1 <= parsed <= MAX_ID:
        raise InvalidArgument(f"{name} must hold positive integer ids")
    return parsed
