"""`python -m litdoc` is the `litdoc` command."""

import sys

from litdoc.cli import main

if __name__ == "__main__":
    sys.exit(main())
