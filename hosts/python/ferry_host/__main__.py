"""``python -m ferry_host``: see :mod:`ferry_host.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
