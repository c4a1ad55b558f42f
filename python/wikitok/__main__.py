"""``python -m wikitok`` and the ``wikitok`` console script: the command line,
run by the same code as the cargo-built binary (same flags, output, exit
codes). Signals follow Python's handlers: SIGINT raises KeyboardInterrupt,
SIGTERM is given a handler here; the native side sees either within 100 ms,
stops the run tidily and returns 130 or 143, like the binary."""
import signal
import sys

from . import _native


class _Terminated(BaseException):
    """SIGTERM, raised in Python's main thread for the native run to see."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def main():
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(_native.main(["wikitok", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
