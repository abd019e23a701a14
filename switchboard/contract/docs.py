"""docs/contract.md, generated from the declaration: the socket.io events with their fields and limits, the
authorization matrix, the rate classes, the pushes and the RPCs. ``python -m switchboard.contract docs`` writes
it; a test fails when the file and the declaration disagree."""

from __future__ import annotations

from pathlib import Path

from switchboard.contract.events import ALL_ROLES, EVENTS, MAX_PACKET_BYTES, PUSHES, RATE_CLASSES, RESERVED_EVENTS
from switchboard.contract.fields import Field
from switchboard.contract.rpcs import CALLERS, RPCS

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
_ROLES = ("user", "agent", "admin")


def _fields(fields: tuple[Field, ...]) -> str:
    if not fields:
        return "—"
    return "<br>".join(f"`{f.name}`{'' if f.required else '?'} {f.kind}: {f.limits()}" for f in fields)


def render() -> str:
    out = [
        "# The contract (generated)",
        "",
        "Generated from `switchboard/contract/` by `python -m switchboard.contract docs`; do not edit by hand "
        "(tests/switchboard/test_contract.py fails when this file and the declaration disagree).",
        "",
        "## socket.io events (client → server)",
        "",
        "Every event answers through its acknowledgement; a failure is `{\"success\": false, \"error\": {code, "
        "message}}`. `?` marks an optional field. Integers are JSON integers or strings of ASCII digits. "
        f"The largest legal packet is {MAX_PACKET_BYTES:,} bytes (every field at its longest, JSON-escaped): the "
        "edge's websocket message limit and engine.io's buffer limit; a larger packet for one event is "
        "`PAYLOAD_TOO_LARGE`. Reserved names (" + ", ".join(f"`{n}`" for n in sorted(RESERVED_EVENTS)) +
        ") and undeclared names are answered `INVALID_ARGUMENT` and reach no handler.",
        "",
        "Events marked *large reply* count against `SWITCHBOARD_MAX_EVENTS_IN_FLIGHT` per socket.",
        "",
        "| event | fields | reply | rate class | largest packet (bytes) |",
        "|---|---|---|---|---|",
    ]
    out += [
    ]
    for e in EVENTS.values():
        shapes = " **or**<br>".join(_fields(v.fields) for v in e.variants)
        reply = f"`{e.reply}`" + (" *large reply*" if e.bulky else "")
        out.append(f"| `{e.name}` — {e.doc} | {shapes} | {reply} | {e.rate} | {e.max_packet_bytes():,} |")
    out += [
        "",
        "## Authorization matrix",
        "",
        "Who may send each event. *anonymous*: a socket not registered yet; *expired*: a registered socket whose "
        "token expired (answered `UNAUTHENTICATED` with reason `TOKEN_EXPIRED` until it registers with a fresh "
        "token). Beyond the role, every event acts only on the caller's own data: a session, message or device "
        "of someone else is answered exactly like one that does not exist (`NOT_FOUND`).",
        "",
        "| event | anonymous | expired | " + " | ".join(_ROLES) + " |",
        "|---|---|---|" + "---|" * len(_ROLES),
    ]
    for e in EVENTS.values():
        anonymous = "✅" if not e.registered else "`NOT_REGISTERED`"
        expired = "✅ (fresh token)" if not e.registered else "`UNAUTHENTICATED`"
        roles = " | ".join("✅" if r in e.roles else "`FORBIDDEN`" for r in _ROLES)
        out.append(f"| `{e.name}` | {anonymous} | {expired} | {roles} |")
    assert set(_ROLES) == ALL_ROLES
    out += [
        "",
        "## Rate classes",
        "",
        "Each class is a token bucket per socket (`SWITCHBOARD_<CLASS>_RATE_PER_SECOND`, `SWITCHBOARD_<CLASS>_BURST`) "
        "and one per user per edge node (`SWITCHBOARD_USER_RATE_MULTIPLIER` × the socket's). Past either: "
        "`RATE_LIMITED`.",
        "",
        "| class | events | for |",
        "|---|---|---|",
    ]
    for c in RATE_CLASSES.values():
        names = ", ".join(f"`{e.name}`" for e in EVENTS.values() if e.rate == c.name)
        out.append(f"| {c.name} | {names} | {c.doc} |")
    out += ["", "## server → client", "", "| event | payload | to |", "|---|---|---|"]
    out += [f"| `{p.name}` | `{p.fields}` | {p.doc} |" for p in PUSHES]
    out += ["", "## RPCs", "", f"Callers: {CALLERS}.", "", "| service | rpc | request fields | does | callers |",
            "|---|---|---|---|---|"]
    out += [f"| {r.service} | `{r.name}` | {_fields(r.fields)} | {r.doc} | {', '.join(sorted(r.callers))} |"
            for r in RPCS.values()]
    return "\n".join(out) + "\n"


def write(path: Path = DOC_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path
