# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""
---
title: python -m litdoc
notebook_args: check --output .
---

`python -m litdoc` is the `litdoc` command. In this page's notebook the last cell runs
`litdoc check` on the notebook's own folder.
"""

import sys

from litdoc.cli import main

# An exit status of 0 returns normally, so that a notebook running this cell does not stop on
# `SystemExit: 0`; any other status exits with it.
if __name__ == "__main__":
    status = main()
    if status:
        sys.exit(status)
