"""Run a command that dies with the process that started it: ``python -S pdeathsig.py <parent pid> <argv...>``.

Linux's ``PR_SET_PDEATHSIG`` has the kernel SIGKILL this process when its parent dies, even of SIGKILL, and the
setting survives the ``exec`` below, so the command keeps this process's pid (the one its supervisor signals
and checks). A trampoline rather than ``preexec_fn``: that runs Python between fork and exec, which may
deadlock when the parent has threads (``switchboard up``, the tests and the bench all do). Elsewhere than
Linux the command just runs.

Standard library only, run without ``site``: it costs ~20 ms per child start.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(parent: int, argv: list[str]) -> None:
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # it died before prctl took effect: nothing would stop the command
        sys.exit(f"pdeathsig: parent {parent} is gone, not starting {argv[0]}")
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
