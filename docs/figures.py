# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Figures that show in a notebook and save the same bytes everywhere
summary: How the pages draw their figures with matplotlib, shown under the cell in a notebook and written as reproducible SVG only when asked.
---

# Figures

Several pages end with a figure: the momentum speed-up, Adagrad's falling rate, the AMSGrad
counterexample, the learning-rate schedules, RAdam's variance. The code that draws each one is the
page's `__main__` block, and that block is also its notebook's demo. Two readers want two things
of it:

* a learner who runs the notebook (or the `.py` download) wants to *see* the figure, under the
  cell, and nothing written into a folder they did not choose;
* the site wants the SVG beside the page, and wants it to be the same bytes on every machine, so
  that it changes only when the data does.

So a figure is shown unless a path is given with `--save`, and a saved SVG carries no date and
fixed element ids. Every figure of the site goes through the three functions below.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def figure_style() -> Iterator[None]:
    r"""
    ### The style every figure is drawn in

    `svg.hashsalt` fixes the ids that matplotlib writes into an SVG (otherwise random), and
    `svg.fonttype: path` draws text as outlines, so the file does not depend on the fonts a
    reader has.
    """
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "labml_nn", "svg.fonttype": "path"}):
        yield


def show_or_save(fig: Any, path: Path | None) -> None:
    r"""
    ### Show the figure, or save it as SVG

    With no `path` the figure is shown: inline under the cell in a notebook, in a window from a
    shell that has one (a shell without a display shows nothing, and says so). With a `path` it is
    written there, with `Date: None` so that the file holds no time stamp.
    """
    import matplotlib.pyplot as plt

    fig.tight_layout()
    if path is None:
        plt.show()
    else:
        fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def save_path(argv: Sequence[str] | None, description: str, page_figure: str) -> Path | None:
    r"""
    ### The command line of a figure's page

    `--save PATH` is the only option; `page_figure` names the file the page shows, so that the
    help says how it was made.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--save",
        type=Path,
        metavar="PATH",
        help=f"write the figure as SVG to PATH instead of showing it (the page's is {page_figure})",
    )
    return parser.parse_args(argv).save
