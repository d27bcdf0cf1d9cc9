# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Figures of the optimizer experiment
summary: Draws the optimizer experiment's loss curves with seed bands, its learning-rate sensitivity curves and its results table, as reproducible SVGs.
---

# Figures of the optimizer experiment

Three figures are drawn from the [experiment](experiment.html)'s `results.csv`, so they can be
drawn again at any time without training (`--plot-only`):

* `loss_curves.svg`: the validation curve of each optimizer at its chosen rate, the mean over
  seeds with the band from the lowest to the highest seed;
* `lr_sensitivity.svg`: the final validation score of every rate of the sweep;
* `results_table.svg`: the test results, mean $\pm$ standard deviation over seeds.

`svg.hashsalt` fixes the ids matplotlib writes, `svg.fonttype: path` draws text as outlines
(no dependence on the reader's fonts), and `Date: None` drops the time stamp, so a figure's
bytes depend only on the CSV and the matplotlib version.
"""

import math
from pathlib import Path

from labml_nn.optimizers.experiment import TASKS, Protocol, Row, RunKey, Summary, ranked, table_cells

# A colour and a dash per optimizer, fixed by its place in the table, so a line keeps its look
# across figures, and the Adam family, whose lines lie on top of each other, stays tellable apart.
COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
    "#637939",
    "#843c39",
]
DASHES = ["-", "--", ":", "-."]


def score(task: str, loss: float) -> float:
    r"""
    ### What the curves show: the loss in nats for the digits, bits per character for text
    """
    return loss if TASKS[task].higher_is_better else loss / math.log(2)


def score_label(task: str) -> str:
    return "validation loss (nats)" if TASKS[task].higher_is_better else "validation bits per character"


def plot_curves(
    ax, runs: dict[RunKey, list[Row]], summaries: list[Summary], task: str, styles: dict[str, dict]
) -> None:
    for s in (s for s in summaries if s.task == task):
        per_seed = [
            [r for r in rows if r[5] == "val"]
            for (o, t, lr, _), rows in runs.items()
            if o == s.optimizer and t == task and lr == s.lr
        ]
        # A diverged seed stops early; the band covers the steps every seed reached.
        n = min(len(v) for v in per_seed)
        steps = [r[4] for r in per_seed[0][:n]]
        values = [[score(task, v[i][6]) for v in per_seed] for i in range(n)]
        mean = [sum(v) / len(v) for v in values]
        ax.fill_between(
            steps,
            [min(v) for v in values],
            [max(v) for v in values],
            color=styles[s.optimizer]["color"],
            alpha=0.15,
            linewidth=0,
        )
        ax.plot(steps, mean, linewidth=1.2, label=s.optimizer, **styles[s.optimizer])
    # The curves differ most near their ends: the digits' loss spans two decades, so a log scale;
    # the text's first steps (from 6.6 bits) would flatten the rest.
    if TASKS[task].higher_is_better:
        ax.set_yscale("log")
    else:
        ax.set_ylim(top=4.5)
    ax.set_title(f"{task}: validation at the chosen rate; band: lowest to highest seed", fontsize=9)
    ax.set_xlabel("step")
    ax.set_ylabel(score_label(task))
    ax.grid(alpha=0.3)


def plot_sensitivity(ax, summaries: list[Summary], task: str, styles: dict[str, dict]) -> None:
    finite = [score(task, v) for s in summaries if s.task == task for v in s.sweep.values() if math.isfinite(v)]
    # Diverged rates are drawn as crosses on the top edge rather than left out, so they show.
    top = max(finite) * 1.05
    for s in (s for s in summaries if s.task == task):
        lrs = sorted(s.sweep)
        ys = [score(task, s.sweep[lr]) if math.isfinite(s.sweep[lr]) else top for lr in lrs]
        ax.plot(lrs, ys, marker="o", markersize=3, linewidth=1, label=s.optimizer, **styles[s.optimizer])
        for lr, y in zip(lrs, ys):
            if not math.isfinite(s.sweep[lr]):
                ax.plot([lr], [y], marker="x", color=styles[s.optimizer]["color"], markersize=7)
    ax.set_xscale("log")
    ax.set_title(f"{task}: final validation score of each rate (seed 0)", fontsize=9)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(score_label(task))
    ax.grid(alpha=0.3)


def plot_all(runs: dict[RunKey, list[Row]], summaries: list[Summary], protocol: Protocol, out: Path) -> list[Path]:
    r"""
    ## Draw the three figures into `out`; returns their paths
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in TASKS if any(s.task == t for s in summaries)]
    names = list(dict.fromkeys(s.optimizer for s in summaries))
    styles = {
        name: dict(color=COLORS[i % len(COLORS)], linestyle=DASHES[i % len(DASHES)]) for i, name in enumerate(names)
    }
    paths = []
    with matplotlib.rc_context({"svg.hashsalt": "labml_nn", "svg.fonttype": "path"}):
        for name, draw in (
            ("loss_curves.svg", lambda ax, t: plot_curves(ax, runs, summaries, t, styles)),
            ("lr_sensitivity.svg", lambda ax, t: plot_sensitivity(ax, summaries, t, styles)),
        ):
            fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks) + 1.6, 4.0), squeeze=False)
            for ax, task in zip(axes[0], tasks):
                draw(ax, task)
            axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7)
            fig.tight_layout()
            paths.append(out / name)
            fig.savefig(paths[-1], format="svg", metadata={"Date": None})
            plt.close(fig)

        fig, axes = plt.subplots(
            1, len(tasks), figsize=(4.8 * len(tasks), 0.7 + 0.17 * (len(names) + 1)), squeeze=False
        )
        for ax, task in zip(axes[0], tasks):
            ax.axis("off")
            metric = "test accuracy" if TASKS[task].higher_is_better else "test bits/char"
            table = ax.table(
                cellText=[table_cells(s) for s in ranked(summaries, task)],
                loc="upper center",
                colLabels=["optimizer", "rate", "test loss (nats)", metric],
                cellLoc="left",
            )
            table.auto_set_font_size(False)
            table.set_fontsize(7.5)
            table.auto_set_column_width([0, 1, 2, 3])
            ax.set_title(f"{task}: mean ± std over {len(protocol.seeds)} seeds, best first", fontsize=9)
        fig.text(0.5, 0.01, "↑ / ↓: the chosen rate is the top / bottom of its sweep", ha="center", fontsize=7.5)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        paths.append(out / "results_table.svg")
        fig.savefig(paths[-1], format="svg", metadata={"Date": None})
        plt.close(fig)
    return paths
