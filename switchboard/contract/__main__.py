"""``python -m switchboard.contract docs``: write docs/contract.md from the declaration."""

from __future__ import annotations

import sys

from switchboard.contract.docs import write


def main(argv: list[str]) -> int:
    if argv != ["docs"]:
        print("usage: python -m switchboard.contract docs", file=sys.stderr)
        return 2
    print(f"wrote {write()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
