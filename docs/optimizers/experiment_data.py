# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Data for the optimizer experiment
summary: Two data sets that ship inside packages, scikit-learn's 8x8 digits and the help text of Python's pydoc, split once and for all into training, validation and test sets.
---

# Data for the optimizer experiment

The [optimizer experiment](experiment.html) needs real data that every learner already has
after `pip install`, with nothing to download:

* **Digits.** scikit-learn bundles the 1,797 handwritten digits of the UCI "optical
  recognition of handwritten digits" set, each an $8 \times 8$ image of pen-stroke counts
  in $0 \dots 16$, with its label $0 \dots 9$.
* **Text.** CPython ships the text that `help("topic")` prints, about 465,000 characters of
  English prose and Python code in `pydoc_data.topics`.

Each is split **once**, by a fixed rule that does not depend on the run's seed: a run's seed
changes the model's initial weights and the order of the mini-batches, never which examples it
may train on. The validation set chooses the learning rate; the test set is only read for the
final table.
"""

from dataclasses import dataclass

import numpy as np
import torch

# The seed of the digits split. It is part of the data set's definition, not of a run.
SPLIT_SEED = 0
# Digits per split: 60% / 20% / 20% of 1,797, with the remainder in training.
DIGITS_VAL = 360
DIGITS_TEST = 360


@dataclass(frozen=True)
class Split:
    r"""
    ## One split of a data set

    `x` holds the inputs and `y` the targets, as tensors on one device. For the digits
    `x` is $[N, 1, 8, 8]$ and `y` is $[N]$; for text `x` is the $[L]$ character ids and `y`
    is unused (an empty tensor), since the targets are the next characters.
    """

    x: torch.Tensor
    y: torch.Tensor

    def to(self, device: torch.device) -> "Split":
        return Split(self.x.to(device), self.y.to(device))


def digits_split_indices(n: int = 1797) -> dict[str, np.ndarray]:
    r"""
    ## The digits split

    A permutation by NumPy's `RandomState`, whose stream NumPy keeps the same across
    versions (its newer `Generator` makes no such promise), cut into the test, validation and
    training sets. Each set is sorted, so a set is a set, independent of the order it was drawn in.
    """
    order = np.random.RandomState(SPLIT_SEED).permutation(n)
    test = np.sort(order[:DIGITS_TEST])
    val = np.sort(order[DIGITS_TEST : DIGITS_TEST + DIGITS_VAL])
    train = np.sort(order[DIGITS_TEST + DIGITS_VAL :])
    return {"train": train, "val": val, "test": test}


def load_digits_splits() -> dict[str, Split]:
    r"""
    ## Load the digits

    The pixel counts are scaled by $1/16$ to $[0, 1]$; nothing is fitted on the data, so no
    statistic of the test set leaks into training.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("the digits task needs scikit-learn: pip install -e '.[experiments]'") from e
    digits = load_digits()
    # $[1797, 64]$ counts in $0 \dots 16$ $\to$ $[1797, 1, 8, 8]$ in $[0, 1]$
    x = torch.tensor(digits.data, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    return {
        name: Split(x[torch.from_numpy(idx)], y[torch.from_numpy(idx)])
        for name, idx in digits_split_indices(len(y)).items()
    }


# ## Text

# The characters the model sees: the 95 printable ASCII characters and the newline. The other
# 0.1% of the corpus (typographic quotes and dashes, accented letters) become one unknown id.
VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
UNKNOWN = len(VOCAB)
VOCAB_SIZE = len(VOCAB) + 1
# The text is cut by position: the first 90% trains, then 5% validates and the last 5% tests.
TEXT_FRACTIONS = (0.90, 0.05, 0.05)


def load_text() -> str:
    r"""
    ## The corpus

    The topics are joined in the order of their names, so the corpus is the same however the
    dictionary happens to be ordered in a given CPython release.
    """
    from pydoc_data.topics import topics

    return "".join(topics[name] for name in sorted(topics))


def encode(text: str) -> torch.Tensor:
    r"""
    ### Characters to ids, $[L]$ of `uint8`
    """
    table = {c: i for i, c in enumerate(VOCAB)}
    return torch.tensor([table.get(c, UNKNOWN) for c in text], dtype=torch.uint8)


def load_text_splits() -> dict[str, Split]:
    r"""
    ## Load the text

    Cutting by position rather than by sampling windows keeps the held-out text unseen: no
    window of the validation or test text overlaps a training window. The price is that the
    splits hold different topics (the alphabetically last ones are held out), which makes the
    held-out text a little harder than the training text, the same for every optimizer.
    """
    ids = encode(load_text())
    n = len(ids)
    n_train = int(n * TEXT_FRACTIONS[0])
    n_val = int(n * TEXT_FRACTIONS[1])
    empty = torch.empty(0, dtype=torch.long)
    return {
        "train": Split(ids[:n_train], empty),
        "val": Split(ids[n_train : n_train + n_val], empty),
        "test": Split(ids[n_train + n_val :], empty),
    }


def text_windows(ids: torch.Tensor, starts: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""
    ### Inputs and next-character targets

    For each start $s$ the input is `ids[s : s + length]` and the target is shifted by one,
    `ids[s + 1 : s + length + 1]`; both are $[B, \text{length}]$ of `long`.
    """
    # $[B, \text{length} + 1]$ positions
    positions = starts.to(ids.device)[:, None] + torch.arange(length + 1, device=ids.device)[None, :]
    chunk = ids[positions].long()
    return chunk[:, :-1], chunk[:, 1:]


def eval_starts(n_chars: int, length: int, n_windows: int) -> torch.Tensor:
    r"""
    ### Evaluation windows

    Up to `n_windows` non-overlapping windows spread evenly over a held-out split, the same
    for every run, so that two runs are scored on exactly the same characters.
    """
    n_fit = (n_chars - 1) // length
    count = min(n_windows, n_fit)
    # Evenly spaced window numbers among the `n_fit` that fit, each times `length`.
    return torch.tensor([(i * n_fit // count) * length for i in range(count)], dtype=torch.long)
