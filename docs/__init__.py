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
and on GPU.

## Chapters

* [Optimizers](optimizers/index.html): Adam and the adaptive optimizers built on it.

## Using the code

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
