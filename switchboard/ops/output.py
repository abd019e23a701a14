"""How the operator tools print: aligned tables on stdout, progress on stderr.

Tables go to stdout so they can be piped and compared; progress goes to stderr, so a long listing shows it is
moving without mixing into what is piped."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import TextIO


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned; ``-`` for an empty cell."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [all(_is_number(r[i]) for r in cells) and bool(cells) for i in range(len(headers))]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    return text == "-" or text.replace(",", "").replace(".", "", 1).isdigit()


class Progress:
    """``progress.step(n)`` after each piece of long work; prints ``label: n[/total]`` at most every
    ``interval`` seconds and once more at the end."""

    def __init__(self, label: str, total: int | None = None, out: TextIO = sys.stderr,
                 interval: float = 0.5) -> None:
        self.label, self.total, self.out, self.interval = label, total, out, interval
        self.done = 0
        self._shown = 0.0

    def step(self, count: int = 1) -> None:
        self.done += count
        if time.monotonic() - self._shown >= self.interval:
            self._show()

    def finish(self) -> None:
        self._show()

    def _show(self) -> None:
        self._shown = time.monotonic()
        of = f"/{self.total:,}" if self.total is not None else ""
        self.out.write(f"{self.label}: {self.done:,}{of}\n")
        self.out.flush()
