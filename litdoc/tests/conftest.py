"""Hypothesis runs derandomized in CI (the `CI` variable set): a failure there is reproduced by the same
command, never by chance. Locally each run explores new examples. Neither profile has a deadline: a
per-example time limit is a timing assertion, and on a shared 2-core machine under load an example of
`test_any_text_reads_back` took over its default 200 ms and failed a correct test."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("local", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "local")
