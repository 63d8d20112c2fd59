"""Sub-commands of `brr-lab`; each module defines `register(subparsers)`."""

# The shell's status for a run stopped by Ctrl-C (128 + SIGINT), whatever it completed.
INTERRUPTED_EXIT = 130

__all__ = ["INTERRUPTED_EXIT"]
