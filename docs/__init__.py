# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Annotated deep-learning implementations
summary: Tested PyTorch implementations of deep-learning algorithms, annotated line by line with notes and math, as side-by-side pages.
---

# Annotated deep-learning implementations

Each page of this site is a Python module that you can import, train with and test.
The notes and the mathematics are on the left; the code they explain is on the right,
with its line numbers in the source file. Nothing is simplified for the page: the
code you read is the code that the test suite checks against PyTorch's own
implementations and against float64 references of the papers' algorithms, on CPU
(and on CUDA, by the same tests, where a GPU is present).

The optimizer chapter descends from [nn.labml.ai](https://nn.labml.ai)
([labmlai/annotated_deep_learning_paper_implementations](https://github.com/labmlai/annotated_deep_learning_paper_implementations),
MIT License, © 2020 Varuna Jayasiri): its base class, its Adam family's interface and its first
pages follow that project's code and notes, and its side-by-side page format is the one litdoc renders.
`LICENSE` carries its notice, and the pages say where they differ from it.

## Chapters

* [Optimizers](optimizers/index.html): Adam and the adaptive optimizers built on it.

## Using the code

To import the pages' code in your own project, a notebook or Colab, install this repository
(its distribution is `labml-nn-annotated`; PyTorch is its only requirement):

```bash
pip install "labml-nn-annotated @ git+https://github.com/labml-nn/annotated"
```

Every page's notebook does this in its first cell when the code is missing. Do not install
PyPI's `labml-nn` beside it: that is the upstream project, whose package has the same import
name, `labml_nn`, and whose files would replace or mix with these. Importing `labml_nn` when
both are installed stops with an error that says so.

To run the tests and build the site, clone it:

```bash
git clone https://github.com/labml-nn/annotated.git && cd annotated
make test        # installs everything into .venv and runs the tests
make docs        # builds this site into docs/
```

```python
from labml_nn.optimizers.adam import Adam

optimizer = Adam(model.parameters(), lr=1e-3)
```
"""

import importlib.metadata as _metadata


# Both distributions install a package named `labml_nn` into the same folder: whichever was installed
# last has overwritten the other's files of the same name, and the rest are mixed. Nothing reliable can
# be imported then, so say so once, here, rather than fail later with "cannot import name 'Group'".
def _refuse_a_mixed_install() -> None:
    try:
        _metadata.distribution("labml-nn")
        _metadata.distribution("labml-nn-annotated")
    except _metadata.PackageNotFoundError:
        return
    raise ImportError(
        "labml_nn: both labml-nn-annotated (this project) and PyPI's labml-nn are installed, and both "
        "install the package labml_nn, so their files are mixed. Run: pip uninstall -y labml-nn "
        "labml-nn-annotated && pip install 'labml-nn-annotated @ git+https://github.com/labml-nn/annotated'"
    )


_refuse_a_mixed_install()
