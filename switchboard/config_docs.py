"""docs/configuration.md, generated from the settings objects themselves (``python -m switchboard.settings docs``).

Every service reads its configuration once, into a frozen dataclass (:mod:`switchboard.settings`); the fields'
names, types and defaults are the truth, and the comments written above a field (or after it) are its
documentation. A reference written by hand drifts the day a setting is added; this one is rendered from the
classes, and a test fails when the committed file differs from what they render.

A comment above several fields with no blank line between them describes the group: it is shown on the first
field and the others say so.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import io
import textwrap
import tokenize
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from switchboard.settings import PREFIX, CommonSettings

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "configuration.md"
SAME_GROUP = "(with the setting above)"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    type: str
    default: str
    doc: str

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


def settings_classes() -> dict[str, type]:
    """Each service's ``Settings`` (every ``services/<name>/settings.py``) and the operator tools'."""
    found = {}
    for path in sorted((ROOT / "services").glob("*/settings.py")):
        module = importlib.import_module(f"services.{path.parent.name}.settings")
        found[path.parent.name] = module.Settings
    found["operator tools (switchboard status, …)"] = importlib.import_module("switchboard.ops.settings").Settings
    return found


def _comments(source: str) -> dict[int, str]:
    """Comment text by line number (1-based) of ``source``."""
    return {tok.start[0]: tok.string.lstrip("#").strip()
            for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}


def _documented(cls: type) -> dict[str, tuple[str, str]]:
    """``field → (doc, default as written)`` for the fields ``cls`` itself declares."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines, comments = source.splitlines(), _comments(source)
    body = typing.cast(ast.ClassDef, ast.parse(source).body[0]).body
    out: dict[str, tuple[str, str]] = {}
    previous_end, in_group = -1, False
    for node in body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            previous_end, in_group = -1, False
            continue
        above: list[str] = []
        line = node.lineno - 1
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        in_group = bool(above) or (in_group and previous_end == node.lineno - 1)
        doc = " ".join(above) if above else SAME_GROUP if in_group else ""
        end = node.end_lineno or node.lineno
        inline = comments.get(end) if not lines[end - 1].strip().startswith("#") else None
        if inline:  # a field's own note; a group is only what a comment above opens
            doc = inline if doc == SAME_GROUP else f"{doc} {inline}".strip()
            in_group = bool(above)
        written = ast.get_source_segment(source, node.value) if node.value is not None else ""
        out[node.target.id] = (doc, written or "")
        previous_end = end
    return out


def _default(field: dataclasses.Field[Any], written: str) -> str:
    if field.default is dataclasses.MISSING:
        return "computed at start-up"
    value = repr(field.default) if isinstance(field.default, str) else str(field.default)
    return value if written in ("", value) or written.startswith(("'", '"')) else f"{value} ({written})"


def describe(cls: type, skip: frozenset[str] = frozenset()) -> list[Setting]:
    hints = typing.get_type_hints(cls)
    docs: dict[str, tuple[str, str]] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            docs.update(_documented(base))
    out = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in skip:
            continue
        hint = hints[field.name]
        type_name = hint.__name__ if isinstance(hint, type) else str(hint)
        doc, written = docs.get(field.name, ("", ""))
        out.append(Setting(field.name, type_name, _default(field, written), doc))
    return out


def _table(settings: list[Setting]) -> Iterator[str]:
    yield "| environment variable | type | default | what it is |"
    yield "|---|---|---|---|"
    for s in settings:
        default = f"`{s.default}`" if s.default not in ("", "''") else "empty"
        doc = s.doc.replace("|", r"\|")
        yield f"| `{s.env}` | {s.type} | {default} | {doc} |"


def all_settings() -> dict[str, list[Setting]]:
    """The common settings, then each settings object's own (those it adds to the common ones)."""
    common = frozenset(f.name for f in dataclasses.fields(CommonSettings))
    sections = {"every service": describe(CommonSettings)}
    for name, cls in settings_classes().items():
        sections[name] = describe(cls, skip=common)
    return sections


def env_names() -> set[str]:
    return {s.env for settings in all_settings().values() for s in settings}


def render() -> str:
    out = ["# Configuration reference", "",
           "Generated by `python -m switchboard.settings docs` from the settings objects "
           "(switchboard/config_docs.py); do not edit by hand: a test fails when this file and the code differ.",
           "",
           "Every setting is an environment variable read once at start-up. Booleans take `1`/`true`/`yes`/`on` "
           "or `0`/`false`/`no`/`off`; an empty value of an optional number means none. A service reads the "
           "common settings and its own; an unknown `SWITCHBOARD_*` variable is ignored.", ""]
    for name, settings in all_settings().items():
        out += [f"## {name}", "", *_table(settings), ""]
    return "\n".join(out)


def main(argv: list[str]) -> None:
    if argv != ["docs"]:
        raise SystemExit("usage: python -m switchboard.settings docs   (writes docs/configuration.md)")
    DOC_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC_PATH.relative_to(ROOT)}")
