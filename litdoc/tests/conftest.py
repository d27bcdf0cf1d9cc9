"""Hypothesis runs derandomized in CI (the `CI` variable set): a failure there is reproduced by the same
command, never by chance. Locally each run explores new examples."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
