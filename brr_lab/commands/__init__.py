"""Sub-commands of `brr-lab`; each module defines `register(subparsers)`."""
