# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Fused Adam
summary: Adam at memory speed. Why an optimizer step is bound by memory traffic, what PyTorch's fused optimizers do about it, and an Adam that keeps its parameters and state in flat buffers and updates them in one compiled pass.
paper_title: Adam: A Method for Stochastic Optimization
paper_authors: Diederik P. Kingma and Jimmy Ba
paper_year: 2015
paper_type: inproceedings
paper_venue: 3rd International Conference on Learning Representations (ICLR 2015)
paper_arxiv: 1412.6980
paper_arxiv_class: cs.LG
---

# Fused Adam: an Adam step at memory speed

The [Adam page](adam.html) updates one tensor at a time, and each line of its update is a
separate pass over memory. This page keeps the algorithm, digit for digit, and changes only
how the work reaches the hardware, until a step costs what moving its bytes costs.

## An optimizer step is a memory problem

For each parameter Adam does about a dozen floating-point operations: a `lerp`, a
multiply-add, a square root, a division and a few multiplications. To do them it must
read the parameter $\theta$, its gradient $g$ and both moments $m$ and $v$, and write back
$\theta$, $m$ and $v$. In `float32` that is

$$4 \times 4 + 3 \times 4 = 28 \text{ bytes per parameter.}$$

A CPU core does a dozen vectorised operations on 16 floats in a few nanoseconds; reading
448 bytes from main memory takes longer. So the step is *memory-bound*: a step on a model of
$N$ parameters takes at least $28N / B$ seconds, where $B$ is the most the memory can stream.

That is a floor only if $B$ is the machine's real streaming bandwidth. The tables below take $B$
from `torch.optim.Adam(fused=True)` itself, timed on one tensor of 64Mi parameters, and both fused
kernels beat that time on the model 16 times the L3 cache; so $28N/B$ there is a *reference time*,
what PyTorch's kernel would take on one large tensor, and this page calls it that. A floor would
take $B$ from a STREAM-like copy or triad, which `scripts/bandwidth.py` measures; the step runs
below set `FusedAdam` against it too, and its step beat the triad's time, so on this machine neither
is a floor.

The per-tensor loop of the Adam page is far from that time for two reasons.

1. **Every line is a pass.** `m.lerp_(g)`, `v.mul_(β₂)`, `v.addcmul_(g, g)`, `v.sqrt()`,
   `.add_(ε)` and `θ.addcdiv_(m, d)` each read their inputs from memory and write their
   output back. Counted that way a step moves about 64 bytes per parameter, not 28, and
   allocates a temporary the size of the parameter for the denominator.
2. **Every tensor is a round trip through Python.** For each of its tensors the loop
   makes about eight operator calls, each a few microseconds of Python and dispatcher work
   before any arithmetic. A model of many small tensors spends most of its step there.

## What PyTorch does

`torch.optim.Adam` has three implementations that share one signature:

* `foreach=False` is the same per-tensor loop as our Adam page.
* `foreach=True` calls *multi-tensor* operations, `torch._foreach_lerp_(ms, gs, w)` and the
  like, once for a list of tensors. That removes the Python round trip per tensor, but on a
  CPU each `_foreach_` operation is a C++ loop over the tensors that runs the ordinary
  kernel on each, so the number of passes over memory stays the same. (On CUDA they group
  many small tensors into one kernel launch, which is where they pay off most.)
* `fused=True` calls one hand-written kernel per step. On a CPU it walks each parameter
  tensor once, in vectorised blocks split between threads, doing the whole update in
  registers: 28 bytes per parameter. On CUDA one kernel launch updates chunks of many
  tensors at once.

`fused=True` streams large tensors at the reference time (it defines it). It still starts the kernel once per tensor,
so a model of many small tensors pays a fixed cost per tensor, and that cost is what our
version removes as well.

## Our version, step by step

Each step below is one idea; the measured effect is in the tables further down.

1. **Per-tensor loop** (the Adam page): about eight operator calls per tensor, about 64 bytes
   per parameter.
2. **Multi-tensor operations** (`torch.optim.Adam(foreach=True)`): one call per line of the
   update for the whole list; the same bytes.
3. **A flat buffer** (`FusedAdam(compiled=False)`). We keep all parameters of a parameter
   group (of one device and dtype) in one contiguous buffer, and their gradients, first and
   second moments in three more, laid out the same way. Each parameter becomes a *view* into
   the buffer, so the model and the optimizer see the same memory. A step is then Adam's
   own `step_param` applied once, to four long 1-d tensors: eight operator calls per step,
   whatever the number of tensors. The bytes per parameter are still about 64.
4. **One pass** (`FusedAdam()`, the default). The whole update is written as one
   element-wise function, `adam_kernel` below, and `torch.compile` turns it into a single
   loop (C++ with OpenMP and vector instructions on a CPU, a Triton kernel on a GPU) that
   reads each of $\theta, g, m, v$ once and writes $\theta, m, v$ once: 28 bytes.
5. **One call for many tensors.** Large gradients are read where autograd made them (below), so a
   step has several separate tensors to update, and a compiled function costs about 25 µs of
   Python per call before its loop starts. `adam_kernel_many` runs `adam_kernel` on a list of
   tensors, and compiled for the lengths of one model's list it updates all of them in one call per
   step.
6. **A direct call.** Through `torch.compile`, every call first runs the guards that choose the
   compiled variant, and the wrappers around them. Right after the backward pass, with the caches
   full of its data, that took 0.3 ms (*one-off*), a twelfth of the step on (a) below. So only a
   variant's first call goes through `torch.compile`; later calls go straight to the function
   Inductor made (`run_kernel_many`).
7. **Huge pages** (on a CPU, under Linux). The processor turns every address into a physical one
   page by page, through a cache of a few thousand translations; pages are 4 KiB, so (a)'s 25 MB of
   parameters below span some 6,000 of them, and each translation that misses the cache walks the
   page tables (in a virtual machine, two sets of them). The step streams its buffers front to back,
   which the processor's prefetching hides well; the forward and backward passes read each weight
   in blocks across many rows, and they gain most. So each buffer of 2 MiB or more is a memory
   mapping of its own, started on a 2 MiB boundary and marked `madvise(MADV_HUGEPAGE)`, and the
   kernel backs it with 2 MiB pages: 13 for (a)'s parameters. PyTorch can do the same for everyone's
   tensors: with `THP_MEM_ALLOC_ENABLE=1` in the environment when the process starts, its CPU allocator
   marks every allocation of 2 MiB or more `MADV_HUGEPAGE` (`c10/core/impl/alloc_cpu.cpp`), so under
   that setting `torch.optim.Adam`'s parameters, gradients and state get huge pages too. It aligns
   them to the base page, not to 2 MiB, and leaves smaller tensors alone: (a)'s weights are 1 MiB
   each, (c)'s MLP weights 4 MiB. It is off by default.

We write no kernel of our own: `torch.compile` writes it from ordinary tensor operations. We do
not call `torch._fused_adam_`, the private kernel behind `fused=True`: the point of the page is to
show how such a kernel reaches its speed, and it would also force its own `eps` placement on us,
while we keep both forms of the [Adam page](adam.html). We do reach into `torch.compile`'s internals
in two places: the limit on compiled variants (`torch._dynamo.config`), and Inductor's `compile_fx`,
which our backend calls as the default backend does, to keep the function it makes. Both are on
[their own page](torch_internals.html), with the torch versions they were checked on and a fallback
for the release that changes them.

## What the flat buffer costs you

* **`param.data` changes storage** on the first `step()`: each parameter is copied into the
  optimizer's buffer and its `.data` pointed there. The `Parameter` objects stay the same,
  so modules, `state_dict()` and other optimizers keep working, but anything that
  remembered the old storage (a raw pointer, a CUDA graph captured before the first step,
  another flattening optimizer) does not see updates. A parameter whose memory layout is
  dense (contiguous, transposed, `channels_last`) keeps its strides; one that is not
  (an overlapping or gapped view) becomes contiguous.
* **Gradients are read where autograd leaves them, or copied.** `zero_grad()` means what it
  means for every optimizer: with PyTorch's default `set_to_none=True` the gradients are
  `None` afterwards, and the next backward pass makes new gradient tensors. Copying those
  into a flat buffer would cost 8 more bytes per parameter (read the new gradient, write the
  buffer), 36 instead of 28, and a pass over memory of its own. So the step treats them by
  size. A gradient of at least `per_tensor_min_numel` elements (64Ki) is read in place, as one
  more loop of the step's compiled call, with the parameter's slices of the other buffers, and
  `param.grad` stays the tensor autograd made. Smaller gradients (biases, norms) are copied into
  the flat gradient buffer, where they form one run and one loop, and their `param.grad` becomes
  a view of the buffer. With `zero_grad(set_to_none=False)` those views
  are zeroed in place and autograd accumulates straight into the buffer. As with every
  optimizer, a parameter without a gradient is skipped and its state is left alone.
* **Huge pages are whole pages.** A buffer of 2 MiB or more is its own mapping, rounded up to
  whole huge pages: up to 2 MiB more memory per buffer, four buffers per group. The mapping goes
  with the last view of the buffer. Set `FusedAdam.huge_pages = False` (on the class, or on an
  optimizer before its first step) for memory from PyTorch's allocator; where the system has
  transparent huge pages turned off (`never`), where a huge page is larger than 2 MiB, and off
  Linux, that is what the buffers get anyway. If the kernel finds no free huge page it uses 4 KiB
  pages: slower, never wrong. Such a buffer's storage cannot be resized: a tool that frees a
  parameter's memory by resizing its storage to nothing gets an error, where with an ordinary
  buffer it would have freed every parameter of the group at once.
* **Compiling takes time.** The first `step()` with `compiled=True` compiles the kernel, and
  `adam_kernel_many` is compiled for the lengths of the model's tensors, so every new model (or a
  new set of parameters with gradients) compiles it again: 10 to 25 s on a 2-core CPU with a cold
  cache, a few seconds when PyTorch's on-disk cache already holds it. A step saves milliseconds, so
  this is *not* won back within the first hundred steps; it pays off in runs of thousands of
  steps. `compiled=False` needs no compiler and is still much faster than the per-tensor loop on
  models of many small tensors.

Numerically nothing changes: the same operations on the same numbers, so `FusedAdam`
and `Adam` agree to float rounding (exactly, with `compiled=False` on a CPU), and each
can load the other's `state_dict()`.

## Under DDP, ZeRO and FSDP2

* **`DistributedDataParallel`** averages the gradients before `step()`; `FusedAdam` sees
  ordinary parameters and gradients.
* **`ZeroRedundancyOptimizer(optimizer_class=FusedAdam)`**: each rank flattens the
  parameters it owns and broadcasts them after its step, as with any optimizer.
* **FSDP2** (`torch.distributed.fsdp.fully_shard`) makes every parameter a `DTensor`, of which
  each rank holds one shard, in storage that FSDP owns and gathers the full parameter from
  before each forward pass. Moving that storage into our buffer would cut FSDP off from it, so
  sharded parameters are not flattened: each is updated on its local shard, and a rank's shards
  go to the kernel together, one compiled call per step (`step_sharded`). Adam is element-wise,
  so a shard needs nothing from the other ranks, and the state stays a `DTensor` laid out as the
  parameter, as `torch.optim.Adam` keeps it.

`tests/optimizers/test_distributed.py` trains with two processes of a gloo group, 20 steps in
float64, under each of the three, and compares with one process on the whole batch: the
parameters and (under FSDP2, gathered from the shards) the state agree to 5e-16, the rounding
of summing two half-batch gradients instead of one batch.

## Measured on a CPU

**Where these figures come from.** The runs against the baseline under `THP_MEM_ALLOC_ENABLE=1`
(the first subsection below) are committed: their JSON lies in
`labml_nn/optimizers/fused_adam_results/`, `python scripts/fused_adam_tables.py` prints every table
and figure of that subsection and the first row of the Goals table from it, and a test checks that
this page shows exactly what it prints. The raw output of the other runs is not committed, so no
other figure in this section (or in the notes on the code) can be regenerated from the repository:
every one is a one-off measurement, of the machine and the moment it names. Today's scripts measure
the same things again, with new numbers: the training-loop table is `bench_training.py` run three
times and combined with `--combine`, the huge-page ablations add `--ablate-huge-pages`, and the
interleaved step table is `bench_optimizers.py --no-sweep`. Figures marked *(one-off)* cannot be
measured again by today's scripts at all: they came from throwaway timings, or from earlier versions
of the code or of the benchmarks (the older training-loop runs below came from a version that ran
every contender in one process).

**The baseline under `THP_MEM_ALLOC_ENABLE=1`.** The earlier training-loop runs (the second
subsection below) gave `torch.optim.Adam(fused=True)` the default environment, in which PyTorch's
allocator does not ask for huge pages, while `FusedAdam` asks for them for its own buffers (step 7);
what put `FusedAdam` ahead on (a) and (c) there was the forward and backward passes, which read the
parameters from huge pages. The first subsection below runs the baseline under
`THP_MEM_ALLOC_ENABLE=1` as well, its best documented setting, and `FusedAdam` in 4 KiB pages, so
that each difference can be put down to its source: huge pages for PyTorch's own tensors, the flat
buffer with its one kernel, and huge pages for the flat buffers.

Two benchmarks, each with its machine. `scripts/bench_training.py` times what a user's training
loop costs: forward, backward, `zero_grad()` with PyTorch's defaults and `step()`.
`scripts/bench_optimizers.py` times `step()` alone, on fixed gradients. A step benchmark says
what the kernel does; only the loop says what a user gains.

### In the training loop, against the baseline under `THP_MEM_ALLOC_ENABLE=1`

`python scripts/bench_training.py --ablate-huge-pages`, run three times, back to back, on the
development machine while no other job ran on it (the load averages the script printed are given
below: its own processes add about 2 on these two cores). Two earlier runs, made while other jobs
kept this shared machine busy (load averages of 3.33 and 4.93 at their start), are kept in
`labml_nn/optimizers/fused_adam_results/loaded/` for the record and used nowhere: in them the
control's ratios ran from 0.59x to 1.54x on (a), so they could not tell two identical contenders
apart. What the three runs can say is in the paragraph after the tables. The JSON of the runs is in
`labml_nn/optimizers/fused_adam_results/`, and `python scripts/fused_adam_tables.py` prints every
table and figure of this subsection from it. The contenders are those of the earlier runs below,
plus two. `torch.optim.Adam(fused=True)` runs a second time in a process started with
`THP_MEM_ALLOC_ENABLE=1`, its best documented setting on a CPU (step 7): PyTorch reads the variable
once per process, at its first allocation, so it cannot share a process with the others. And
`FusedAdam` runs with `huge_pages = False`, its buffers in 4 KiB pages (`--ablate-huge-pages`).
Every contender now trains its copy of the model alone in a process of its own, as a user's script
does: the script starts one worker process per contender and asks them in turn for one iteration
each, in an order that rotates from round to round, waiting 10 ms after each so that the OpenMP
threads of the process that ran last have stopped spinning. So every ratio, the control's too, is
one between two processes. Nothing is pinned, every process keeps PyTorch's default 2 threads, and
no allocator variable is set; the script prints each process's environment, and whether a fresh
8 MiB tensor of it lay in huge pages:

    transparent huge pages: madvise (/sys/kernel/mm/transparent_hugepage/enabled)
    torch fused=True: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB
    torch foreach=True: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB
    torch foreach=False: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB
    labml Adam: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB
    FusedAdam: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB
    control: fused=True again: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB
    torch fused=True, THP_MEM_ALLOC_ENABLE=1: THP_MEM_ALLOC_ENABLE=1, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 6144 KiB
    FusedAdam, 4 KiB pages: THP_MEM_ALLOC_ENABLE=unset, MALLOC_MMAP_THRESHOLD_=unset, MALLOC_TRIM_THRESHOLD_=unset, MALLOC_ARENA_MAX=unset, GLIBC_TUNABLES=unset, OMP_NUM_THREADS=unset, MKL_NUM_THREADS=unset; threads 2; a fresh 8 MiB tensor in huge pages: 0 KiB

Machine: Intel(R) Xeon(R) Processor, L2 4 MiB (2 instances), L3 480 MiB (1 instance), PyTorch 2.13.0+cpu, Python 3.11.7, 2 threads in each worker, transparent huge pages `madvise`. One-minute load averages: run 1: 2.01 at the start, 1.49 at the end; run 2: 1.13 at the start, 1.69 at the end; run 3: 1.81 at the start, 1.51 at the end.

Medians over the runs, *ms per iteration (ratio to `torch.optim.Adam(fused=True)` in the
default environment; median of the paired ratios) [forward+backward / step]*:

| model | `torch.optim.Adam(fused=True)` | `fused=True`, `THP_MEM_ALLOC_ENABLE=1` | `foreach=True` | `foreach=False` | our `Adam` | `FusedAdam` | `FusedAdam`, 4 KiB pages | control: `fused=True` again |
|---|---|---|---|---|---|---|---|---|
| (a) 24 × Linear(512): 6.3M in 48 | 16.9 (1.00; 1.00) [12.5 / 4.5] | 17.0 (1.01; 1.01) [12.5 / 4.7] | 34.8 (2.06; 2.04) [12.4 / 22.6] | 29.2 (1.73; 1.74) [12.7 / 16.4] | 27.8 (1.65; 1.64) [12.7 / 15.1] | **17.8 (1.05; 1.01) [13.0 / 4.5]** | 17.9 (1.06; 1.01) [13.4 / 4.6] | 16.9 (1.00; 1.00) [12.4 / 4.6] |
| (b) 100 × Linear(64): 0.4M in 200 | 15.8 (1.00; 1.00) [11.6 / 3.9] | 15.9 (1.00; 0.98) [11.3 / 3.1] | 19.1 (1.20; 1.21) [11.4 / 7.4] | 21.0 (1.33; 1.30) [11.4 / 8.7] | 18.1 (1.14; 1.16) [11.3 / 6.6] | **16.0 (1.01; 0.99) [11.4 / 4.0]** | 16.7 (1.06; 1.00) [11.5 / 4.4] | 17.0 (1.07; 1.01) [11.4 / 4.3] |
| (c) 8 transformer blocks: 25.2M in 96 | 91.0 (1.00; 1.00) [74.1 / 17.0] | 93.0 (1.02; 1.04) [76.1 / 16.7] | 150.8 (1.66; 1.65) [74.1 / 74.8] | 122.8 (1.35; 1.33) [74.0 / 47.6] | 113.9 (1.25; 1.24) [74.2 / 39.5] | **90.1 (0.99; 1.01) [74.2 / 16.3]** | 97.9 (1.08; 1.05) [80.2 / 17.0] | 89.5 (0.98; 0.99) [72.7 / 16.6] |
| (d) 512 × Linear(32): 0.5M in 1024 | 35.4 (1.00; 1.00) [27.5 / 7.9] | 35.5 (1.00; 1.00) [27.5 / 7.8] | 45.1 (1.27; 1.25) [27.5 / 17.6] | 52.6 (1.49; 1.51) [27.7 / 25.0] | 45.6 (1.29; 1.29) [27.3 / 18.1] | **33.4 (0.94; 0.92) [27.1 / 5.0]** | 32.6 (0.92; 0.91) [27.3 / 4.8] | 35.9 (1.01; 1.01) [27.5 / 7.9] |

The same medians against `fused=True` under `THP_MEM_ALLOC_ENABLE=1` (*ratio of the medians;
median of the paired ratios*):

| model | `torch.optim.Adam(fused=True)` | `foreach=True` | `foreach=False` | our `Adam` | `FusedAdam` | `FusedAdam`, 4 KiB pages | control: `fused=True` again |
|---|---|---|---|---|---|---|---|
| (a) 24 × Linear(512): 6.3M in 48 | 0.99; 0.99 | 2.05; 2.04 | 1.72; 1.76 | 1.64; 1.63 | **1.04; 1.03** | 1.05; 1.01 | 0.99; 1.00 |
| (b) 100 × Linear(64): 0.4M in 200 | 1.00; 1.02 | 1.20; 1.27 | 1.32; 1.35 | 1.14; 1.25 | **1.01; 0.97** | 1.05; 1.01 | 1.07; 1.03 |
| (c) 8 transformer blocks: 25.2M in 96 | 0.98; 0.97 | 1.62; 1.66 | 1.32; 1.28 | 1.22; 1.21 | **0.97; 0.98** | 1.05; 1.03 | 0.96; 0.96 |
| (d) 512 × Linear(32): 0.5M in 1024 | 1.00; 1.00 | 1.27; 1.26 | 1.48; 1.52 | 1.28; 1.29 | **0.94; 0.93** | 0.92; 0.93 | 1.01; 1.02 |

Run by run (run 1, run 2, ..., each *ratio of the medians; median of the paired ratios*):

| model | `FusedAdam` / THP baseline | `FusedAdam` / `fused=True` | THP baseline / `fused=True` | 4 KiB `FusedAdam` / `fused=True` | control / `fused=True` |
|---|---|---|---|---|---|
| (a) | 1.04; 1.03, 1.03; 1.03, 0.99; 0.99 | 1.07; 1.08, 1.03; 1.01, 0.99; 1.00 | 1.02; 1.01, 1.00; 1.00, 1.00; 1.01 | 1.01; 1.01, 1.06; 1.03, 1.00; 1.00 | 1.00; 0.99, 1.00; 1.00, 1.00; 1.01 |
| (b) | 1.09; 0.99, 0.95; 0.97, 1.01; 0.97 | 1.04; 0.99, 1.04; 1.03, 0.89; 0.95 | 0.96; 0.98, 1.10; 1.08, 0.89; 0.95 | 1.05; 1.00, 1.07; 1.06, 0.93; 0.91 | 1.05; 1.02, 1.18; 1.01, 0.95; 0.99 |
| (c) | 0.98; 0.98, 0.93; 0.94, 1.10; 1.08 | 1.03; 1.01, 0.99; 1.01, 1.08; 1.09 | 1.05; 1.04, 1.06; 1.05, 0.99; 0.99 | 1.12; 1.13, 1.06; 1.04, 1.04; 1.05 | 1.00; 1.00, 0.98; 0.98, 0.98; 0.99 |
| (d) | 0.94; 0.95, 0.92; 0.93, 0.90; 0.91 | 0.94; 0.94, 0.92; 0.92, 0.92; 0.92 | 1.00; 1.00, 1.00; 0.99, 1.02; 1.00 | 0.92; 0.91, 0.94; 0.93, 0.91; 0.90 | 1.01; 1.01, 1.02; 1.01, 0.99; 1.00 |

Where the differences lie: differences of the medians over the runs, *ms of forward+backward /
ms of the step* (negative: faster):

| model | huge pages for PyTorch's tensors: THP baseline − `fused=True` | one flat buffer, one kernel: 4 KiB `FusedAdam` − `fused=True` | huge pages for the flat buffers: `FusedAdam` − 4 KiB `FusedAdam` | in all: `FusedAdam` − THP baseline | the noise: control − `fused=True` |
|---|---|---|---|---|---|
| (a) | 0.0 / +0.2 | +1.0 / 0.0 | -0.4 / -0.1 | +0.6 / -0.2 | -0.1 / 0.0 |
| (b) | -0.3 / -0.8 | -0.1 / +0.4 | -0.1 / -0.4 | +0.1 / +0.9 | -0.2 / +0.3 |
| (c) | +2.0 / -0.3 | +6.2 / 0.0 | -6.0 / -0.7 | -1.9 / -0.4 | -1.4 / -0.4 |
| (d) | 0.0 / -0.1 | -0.2 / -3.1 | -0.2 / +0.2 | -0.4 / -2.8 | 0.0 / 0.0 |

**What these runs can say.** The control, two identical contenders in two processes, is the
yardstick. On (b), whose iteration is mostly Python's overhead, its ratios ran from 0.95x to 1.18x:
there the runs cannot tell two identical contenders apart, and the verdict is *not determined*. On
(a), (c) and (d) they stayed within 0.98x to 1.02x, and the table of differences shows where each
gain lies:

* **Huge pages for PyTorch's own tensors** (the baseline under `THP_MEM_ALLOC_ENABLE=1` against
  the default) gave nothing: 1.02x, 1.00x and 1.00x on (a), whose 1 MiB weights lie below PyTorch's
  2 MiB threshold, and 1.00x, 1.00x and 1.02x on (d), whose tensors are far below it. On (c), where
  the MLP's 4 MiB weights and their gradients and moments cross it, its passes were if anything
  slower: 1.05x, 1.06x and 0.99x, 2.0 ms more of forward and backward in the medians.
* **The flat buffer and its one kernel** (`FusedAdam` in 4 KiB pages against `fused=True`) is the
  gain of the step where there are many tensors: 3.1 ms less per step on (d)'s 1,024 tensors, and
  nothing on (a)'s 48 and (c)'s 96, where both steps stream at what the memory gives.
* **Huge pages for the flat buffers** (`FusedAdam` against itself in 4 KiB pages): 6.0 ms less of
  forward and backward on (c), 0.7 ms less of step. But the 4 KiB `FusedAdam`'s passes had been
  6.2 ms longer than the baseline's, whose weights lie in 4 KiB pages alike, and the control's moved
  by 1.4 ms: where a process's model lands in memory moves its passes by several percent, so only
  the steps' differences are clearly the optimizers'.
* **In all**, against the baseline at its best setting: on (d), 0.94x, 0.92x and 0.90x (paired
  0.95x, 0.93x and 0.91x), below the control's lowest 0.99x, its step 2.8 ms shorter: **met**. On
  (a), 1.04x, 1.03x and 0.99x, and on (c), 0.98x, 0.93x and 1.10x: **level within noise**, not met;
  their steps are level (0.2 and 0.4 ms shorter), and their passes move with where memory lands.

So the one gain these runs show is the one the flat buffer was built for: one kernel launch instead
of one per tensor, worth about 3 ms per iteration on a model of a thousand small tensors. Huge pages
gave neither optimizer anything measurable here. The earlier runs below, in one process and with
the baseline in PyTorch's default environment, put `FusedAdam` level within noise on (a) and (c)
as well; these runs replace their verdicts.

### In the training loop, earlier: the baseline in the default environment only (one-off)

`python scripts/bench_training.py`, in its earlier version that ran every contender in one process,
run three times in a row on the development machine of the time: an AMD
EPYC virtual machine (KVM, AVX-512), 2 cores, 1 MiB L2 per core, 32 MiB L3, PyTorch 2.13.0,
float32, 2 threads, the default environment (no allocator tuning), load average 0.6 to 1.9 (the
benchmark itself keeps both cores busy). An iteration is `zero_grad()` (PyTorch's default
`set_to_none=True`), forward, a mean squared error against a fixed random target, backward and
`step()`. Every contender takes PyTorch's `eps=1e-8` (ours keep their default form of the update),
so all copies of the model train alike: after 45 iterations on (a) the losses of
`torch.optim.Adam(fused=True)` and `FusedAdam` were 0.99152 and 0.99177. The optimizers train copies
of one model and take turns one iteration at a time, in an order that rotates from round to round;
the copies are made afresh three times, in a rotated order, since where a copy lies in memory moves
its forward and backward passes by a few percent. A run's cell is the median of 36 iterations (12
per placement, each after 5 warm-up ones). The last column is a control: `fused=True` again, so its
ratios show how far two identical contenders differ in the same run. (a) and (b) take a batch of 32;
(c) is 8 `nn.TransformerEncoderLayer`s (d_model 512, 8 heads, MLP 2048) on 4 sequences of 16 tokens;
(d) is 512 × (Linear(32), ReLU), 1,024 tensors. A cell is the median over the three runs
(`--combine`) and reads *ms per iteration (ratio to `torch.optim.Adam(fused=True)`; median of the
paired ratios, each iteration against the baseline's in the same round) [forward+backward / step]*.
The median of whole iterations need not be the sum of the two medians beside it.

| model | `torch.optim.Adam(fused=True)` | `foreach=True` | `foreach=False` | our `Adam` | `FusedAdam` | control: `fused=True` again |
|---|---|---|---|---|---|---|
| (a) 24 × Linear(512): 6.3M in 48 | 20.6 (1.00) [16.6 / 4.1] | 36.4 (1.76; 1.88) [16.0 / 20.4] | 29.6 (1.44; 1.45) [15.7 / 13.4] | 27.6 (1.34; 1.35) [15.1 / 12.2] | **19.7 (0.96; 0.97) [15.9 / 4.0]** | 20.5 (0.99; 0.98) [16.0 / 4.1] |
| (b) 100 × Linear(64): 0.4M in 200 | 8.7 (1.00) [6.8 / 1.9] | 11.8 (1.36; 1.36) [6.6 / 5.2] | 13.2 (1.51; 1.53) [6.9 / 6.3] | 11.7 (1.34; 1.34) [7.0 / 4.6] | **8.3 (0.96; 0.96) [6.9 / 1.4]** | 8.7 (1.00; 1.01) [6.8 / 1.9] |
| (c) 8 transformer blocks: 25.2M in 96 | 105.1 (1.00) [91.1 / 13.8] | 155.6 (1.48; 1.45) [92.0 / 61.7] | 150.4 (1.43; 1.27) [90.3 / 38.5] | 118.4 (1.13; 1.12) [90.4 / 27.4] | **103.5 (0.99; 0.98) [89.1 / 13.7]** | 104.6 (1.00; 1.00) [90.8 / 13.8] |
| (d) 512 × Linear(32): 0.5M in 1024 | 41.6 (1.00) [33.0 / 9.1] | 55.5 (1.33; 1.31) [34.5 / 21.5] | 61.1 (1.47; 1.42) [33.6 / 26.7] | 52.4 (1.26; 1.24) [32.8 / 18.9] | **37.9 (0.91; 0.89) [33.1 / 4.7]** | 41.9 (1.01; 1.02) [33.9 / 8.4] |

Run by run, `FusedAdam`'s median iteration over `fused=True`'s was 0.97×, 1.00× and 0.96× on (a)
(paired 0.97×, 0.99×, 0.96×), 0.96×, 0.95× and 0.98× on (b), 0.96×, 0.99× and 0.99× on (c) (paired
0.99×, 0.98×, 0.98×) and 0.90×, 0.89× and 0.91× on (d). The control came out between 0.96× and 1.03×.
Its step against `fused=True`'s took 4.2/4.1, 3.9/4.0 and 4.0/4.2 ms on (a) and 14.1/14.2, 13.7/13.8
and 12.9/13.1 ms on (c): level, as both stream at what the memory gives. In the medians, what puts
`FusedAdam` ahead on (a) and (c) is the forward and backward passes (16.2/16.6, 15.1/15.2 and
15.9/16.6 ms on (a) run by run; 89.1 against 91.1 ms on (c) over the three runs), which read the
parameters from huge pages (step 7). Single runs differ: in the first, (c)'s 0.96× came from a slow
median iteration of the baseline, and the control stood at 0.96× too.

The margin on the two models of large tensors is small, and single runs still scatter about as
much as the control does: on (a) and (c) `FusedAdam` is level with `fused=True` within the noise.
Counting every run of this version of `FusedAdam` that we made (the three
above; three before them in which our two contenders used `optimized_update=False`, PyTorch's form
of the update, *one-off*; and the four runs of the comparison below, two of them in that form), its ratio on
(a) was 0.96× to 1.02×, above 1.0× in four runs of ten (1.01×, 1.01×, 1.02×, 1.02×; paired, above
1.00× as printed in two: 1.01× and 1.03×), and in each of those four the control was at 0.99× to 1.03×; on (c)
it was 0.96× to 0.99× in all ten.

**What the huge pages give.** `--ablate-huge-pages` adds `FusedAdam` with `huge_pages = False` as a
seventh contender. Two runs on (a) and (c), right after the table above, gave (ratio to `fused=True`,
[forward+backward / step] in ms), with huge pages and without:

| | run 1 (loaded), huge pages | run 1 (loaded), 4 KiB pages | run 2, huge pages | run 2, 4 KiB pages |
|---|---|---|---|---|
| (a) | 0.99× [17.1 / 8.7] | 1.02× [17.4 / 8.9] | 1.02× [14.7 / 3.8] | 1.02× [15.0 / 3.7] |
| (c) | 0.99× [107.6 / 11.7] | 0.99× [107.5 / 11.8] | 0.97× [104.7 / 12.0] | 0.98× [106.6 / 12.1] |

Run 1 came from a loaded machine: its steps on (a), 8.7 and 8.9 ms, are more than twice the 3.7 to
4.2 ms of the fused steps in every other training-loop run on this page, so it is shown for the
record and left out of what follows.
Run 2 and two earlier runs (with `optimized_update=False`, *one-off*) gave 1.02× against 1.03× and
0.98× against 1.06× on (a), 0.99× against 1.01× and 0.99× against 1.00× on (c), the forward and
backward passes 0.2 to 1.0 ms faster with huge pages on (a) and up to 2 ms on (c) in each of these
six pairs. The step gains less, and not
always: in the step benchmark below, run twice with `--ablate-huge-pages`, huge pages against 4 KiB
pages took 3.45 against 3.53 and 3.55 against 3.59 ms on (a), and 11.3 against 13.2 and 18.3 against
18.7 ms on the model 4 times the cache; a throwaway interleaved script earlier had found no
difference (*one-off*: 3.32 against 3.30 and 3.38 against 3.48 ms on (a), 17.3 against 17.2 and 17.1 against
17.1 ms on the large model). So the huge pages are worth about 1% of an iteration here, mostly in
the passes that read the weights, which is why `FusedAdam`'s forward and backward passes are now the
faster ones. The previous version of this page, with 4 KiB pages and the loss below, measured 0.99×
to 1.07× on (a), with the forward and backward passes level (*one-off*, earlier code).

Why the loss is against a target (*one-off* figures, from the earlier benchmark): the previous version of this benchmark took `model(x).square().mean()`,
and its ReLU stacks learned to output zeros within some 40 steps, after which every gradient was zero.
The copies of the model then drifted apart, as labml_nn's optimizers ran with their own `eps=1e-16`,
and (a)'s copies ended with 27% to 35% of their activations zero. Neither changes the work of a step,
but the forward and backward passes of the copies no longer did quite the same work.

How the step got to `fused=True`'s (every figure of this paragraph is *one-off*: earlier versions of the
code and throwaway timings). Before, each large gradient got a compiled call of its own, and
`FusedAdam`'s step on (a) took 6.4 to 6.9 ms against 4.7 to 5.2 for `fused=True`. One call of
`adam_kernel_many` for every tensor brought it to 4.25 to 4.36 ms against 3.97 to 4.26. What was left
was not the loop (alone, on one tensor of 33.6M parameters, the compiled loop took 11.2 ms against 12.1
ms for PyTorch's kernel), nor the Python of the step (with both kernels replaced by functions that do
nothing, the two steps cost the same, 0.71 and 0.72 ms right after the backward pass). It was the
compiled call right after the backward pass. Timed there, on one tensor of 512 elements, a call
through `torch.compile` took 0.31 ms, the compiled function called directly 0.11 ms, and
`torch._fused_adam_`, PyTorch's C++ kernel, 0.06 ms; on 25 such tensors 0.48, 0.19 and 0.12 to 0.19
ms. Called again straight away, the call through `torch.compile` costs 25 to 50 µs: what is slow after
the backward pass is reaching code and objects that it pushed out of the caches. Skipping the guards'
checks (`torch.compiler.set_stance(skip_guard_eval_unsafe=True)`) did not help (4.17 against 4.16 ms
per step): the cost is in the layers around the compiled function (the frame evaluation and its
wrappers, some 140 Python calls in all), not in the checks. Passing fewer tensors (θ, $m$ and $v$ as
rows of one buffer, say) would not have helped much either: the cost grows by about 6 µs per
parameter, for its four tensors, and most of it is the same for one parameter as for 25. So
`run_kernel_many` calls the compiled function directly after its first call, and `variant_key` takes
the guards' place. In (a)'s training loop the step went from 4.16 to 3.67 ms, against 3.75 to 3.81 ms
for `fused=True` in the same runs.

### One step, against both baselines and a STREAM-like triad

`python scripts/bench_optimizers.py --no-sweep --steps 30 --warm-cache --ablate-huge-pages --json
labml_nn/optimizers/fused_adam_results/step-cpu-runN.json`, three times, back to back, on the
development machine while no other job ran (its one-minute load average is printed with each run).
The contenders take turns one `step()` at a time on fixed gradients, 10 ms apart; the baseline
under `THP_MEM_ALLOC_ENABLE=1` steps in a worker process of its own, the others in the script's.
This machine reports an L3 of 480 MiB, against 24 GiB of memory: four times that in parameters,
held by eight contenders at once, would not fit (an earlier version of the script tried, and took
22 GB before it was stopped), so the script now caps the big case at half the available memory and
says so: (L3) is 57 × Linear(1024), whose parameters, gradients and moments are 1.9 times the L3.
`python scripts/fused_adam_tables.py` prints these tables from the JSON. The first run, *ms (ratio
to `fused=True`; ratio to `fused=True` under `THP_MEM_ALLOC_ENABLE=1`) [the triad's time / the
step's time]*:

Machine: Intel(R) Xeon(R) Processor, PyTorch 2.13.0+cpu; one-minute load average 0.88 at the start. STREAM-like bandwidth (`bandwidth.py`, float32 arrays of 128 MiB, medians of 20): copy 22.8 GB/s, triad 27.3 GB/s. Reference $B$ (`fused=True` on one large flat tensor): 41.1 GB/s.

| | (a) 24 × Linear(512): 6.3M in 48 | (b) 100 × Linear(64): 0.4M in 200 | (L3) 57 × Linear(1024): 59.8M in 114 |
|---|---|---|---|
| reference time, $28N/B$ | 4.30 | 0.28 | 40.77 |
| STREAM-triad time, $28N/B_{\text{triad}}$ | 6.47 | 0.43 | 61.42 |
| `torch.optim.Adam(fused=True)` | 5.79 (1.00x; 0.88x) [1.12] | 2.86 (1.00x; 0.29x) [0.15] | 45.60 (1.00x; 0.94x) [1.35] |
| `fused=True`, `THP_MEM_ALLOC_ENABLE=1` | 6.58 (1.14x; 1.00x) [0.98] | 9.78 (3.41x; 1.00x) [0.04] | 48.32 (1.06x; 1.00x) [1.27] |
| `foreach=True` | 15.43 (2.67x; 2.34x) [0.42] | 6.59 (2.30x; 0.67x) [0.06] | 139.85 (3.07x; 2.89x) [0.44] |
| `foreach=False` | 15.75 (2.72x; 2.39x) [0.41] | 9.75 (3.40x; 1.00x) [0.04] | 158.22 (3.47x; 3.27x) [0.39] |
| our `Adam` | 13.06 (2.26x; 1.98x) [0.50] | 5.90 (2.06x; 0.60x) [0.07] | 112.61 (2.47x; 2.33x) [0.55] |
| `FusedAdam(compiled=False)` | 10.86 (1.88x; 1.65x) [0.60] | 1.72 (0.60x; 0.18x) [0.25] | 105.59 (2.32x; 2.19x) [0.58] |
| `FusedAdam()` | **4.55 (0.79x; 0.69x) [1.42]** | **1.33 (0.46x; 0.14x) [0.32]** | **42.07 (0.92x; 0.87x) [1.46]** |
| `FusedAdam()`, 4 KiB pages | 5.38 (0.93x; 0.82x) [1.20] | 1.25 (0.44x; 0.13x) [0.34] | 44.03 (0.97x; 0.91x) [1.39] |

Run by run (run 1, 2, 3):

| | (a) 24 × Linear(512): 6.3M in 48 | (b) 100 × Linear(64): 0.4M in 200 | (L3) 57 × Linear(1024): 59.8M in 114 |
|---|---|---|---|
| `FusedAdam()` / `fused=True` | 0.79, 0.80, 0.77 | 0.46, 0.52, 0.55 | 0.92, 0.94, 0.92 |
| `FusedAdam()` / THP baseline | 0.69, 0.70, 0.79 | 0.14, 0.11, 0.14 | 0.87, 0.89, 0.86 |
| 4 KiB `FusedAdam()` / `fused=True` | 0.93, 0.94, 0.94 | 0.44, 0.55, 0.53 | 0.97, 0.98, 0.96 |
| THP baseline / `fused=True` | 1.14, 1.14, 0.98 | 3.41, 4.70, 4.05 | 1.06, 1.07, 1.07 |
| STREAM-triad time / `FusedAdam()` | 1.42, 1.49, 1.35 | 0.32, 0.34, 0.28 | 1.46, 1.72, 1.68 |

STREAM-like copy 22.8, 21.9, 22.8 GB/s and triad 27.3, 24.9, 27.3 GB/s; reference $B$ 41.1, 42.1, 43.6 GB/s; one-minute load average at the start 0.88, 0.79, 1.30 (run by run).

On the two models of large tensors `FusedAdam`'s step is the shortest in every run, against either
baseline; its huge pages give some of that (the 4 KiB `FusedAdam` is closer to `fused=True`). On (b)
the baseline under `THP_MEM_ALLOC_ENABLE=1` took 3.4 to 4.7 times as long as `fused=True`,
although none of (b)'s tensors reaches PyTorch's 2 MiB threshold: the difference there is the worker
process (its 200 kernel starts, after 10 ms of idling, wake sleeping threads), not huge pages, and
this benchmark has no second worker to measure that. The training-loop runs above, where every
contender has a process of its own, are the fair comparison. And the triad: on (a) and (L3),
`FusedAdam`'s step moved its 28 bytes per parameter 1.35 to 1.72 times faster than a STREAM-like
triad on 128 MiB arrays, made of PyTorch's own operations, moves its 12 per element; so that triad
is no floor either, and this page claims none.

### One step, interleaved, on a model larger than the cache (one-off, another machine)

`python scripts/bench_optimizers.py --no-sweep --steps 30 --warm-cache` on the same machine, right
after the runs above (load average 2.0 at its start), allocator tuned (see below): the optimizers
take turns one `step()` at a time on fixed gradients, in an order that rotates from round to round,
median of 30 steps each. (L3) is 32 × Linear(1024), 33.6M parameters: 134 MB of parameters and 537
MB of parameters, gradients and moments, 4 and 16 times the L3 cache, so no array of the step stays
in the cache from one step to the next. The reference time uses $B$ = 46.6 GB/s, the better of two
measurements of `fused=True` on one 64Mi-parameter tensor in the same run. Cells read *ms (ratio to
`torch.optim.Adam(fused=True)`) [reference / time]*.

| | (a) 6.3M in 48 | (b) 0.42M in 200 | (L3) 33.6M in 64 |
|---|---|---|---|
| reference time, $28N/B$ | 3.79 | 0.25 | 20.2 |
| `torch.optim.Adam(foreach=False)` | 8.87 (2.23x) [0.43] | 5.64 (3.66x) [0.04] | 41.9 (2.34x) [0.48] |
| `torch.optim.Adam(foreach=True)` | 10.5 (2.64x) [0.36] | 4.01 (2.60x) [0.06] | 52.8 (2.94x) [0.38] |
| `torch.optim.Adam(fused=True)` | 3.97 (1.00x) [0.96] | 1.54 (1.00x) [0.16] | 17.9 (1.00x) [1.13] |
| labml `Adam` | 7.00 (1.76x) [0.54] | 3.71 (2.40x) [0.07] | 33.8 (1.88x) [0.60] |
| `FusedAdam(compiled=False)` | 8.54 (2.15x) [0.44] | 0.61 (0.39x) [0.41] | 44.8 (2.50x) [0.45] |
| `FusedAdam()` | **3.88 (0.98x) [0.98]** | **0.49 (0.32x) [0.51]** | **17.2 (0.96x) [1.17]** |

Here every gradient already sits in the flat buffer (the benchmark reuses them), so `FusedAdam`
makes one call on one run of the buffers per step. An earlier run of the same code (with a fresh
compilation cache, load average 1.9, between the two sets of training-loop runs) gave 0.92×, 0.33×
and 0.92× (11.7 against 12.8 ms on (L3)); there `fused=True` streamed (L3) at twice the $B$ measured
in the same run, 35.8 GB/s, which shows how far this machine's memory speed moves from minute to
minute. Two more runs, with `--ablate-huge-pages` (load average 1.1 and 1.3; $B$ = 48.0 and 42.6
GB/s), gave 0.93× and 0.92× on (a) and 0.85× and 0.95× on (L3) (11.3 against 13.2 and 18.3 against
19.2 ms), and `FusedAdam` in 4 KiB pages 0.95×, 0.93×, 1.00× and 0.97×. (On (b) the buffers are
under 2 MiB, so both forms are the same.) The previous version of this page measured 0.98× twice on
(L3) (*one-off*). So on the model 4 times the cache `FusedAdam`'s step stays at or below `fused=True`'s: both
stream at close to what the memory gives. Read these as "at or a little below PyTorch's kernel", not
as a fixed percentage. The reference's $B$ comes from one 64Mi-parameter tensor, and a model of smaller
tensors can stream faster than that on this machine (the fractions above 1, on (L3) for both fused
kernels): which is why it is a reference time and not a floor. A run of this benchmark
under a load of 11 to 14 (an earlier version of the page, *one-off*) gave ratios of 0.06× to 0.09× for
`FusedAdam`: there each OpenMP region waits for both threads to be scheduled, and `fused=True` opens
one region per tensor.

### Earlier: one step, in blocks, with the model in the cache (one-off)

This page's first figures, kept because the figure and the discussion of the steps come from them.
They were taken before `FusedAdam` read large gradients in place, and each optimizer's steps were
timed in one block rather than interleaved. Today's scripts no longer time this way, and the last
row's code path is gone, so every figure of this section, its two tables and the plot are
*one-off* measurements. The plot labels its $28N/B$ line "floor", its old name: it is the same
reference time as above.

An "Intel Xeon Processor" virtual machine (AVX-512, 2 MiB L2 per core, 480 MiB shared L3), 2 threads,
PyTorch 2.13.0, float32. `python scripts/bench_optimizers.py`: each cell is the median over three
rounds, taken in turns between the optimizers, of the median of 50 `step()` calls on fixed gradients,
with glibc's allocator tuned (below). The machine is shared: the load average was 0.93 when the run
started and between 1 and 1.8 during it (the benchmark itself keeps both cores busy), so expect a
few percent of noise. The reference time uses $B$ = 43.3 GB/s, measured in the same run as
`torch.optim.Adam(fused=True)` on one flat tensor of 64Mi parameters (1.8 GB per step, far more than
the cache). Cells read *time in ms (ratio to `torch.optim.Adam(fused=True)`) [reference / time]*.

| | (a) 24 × Linear(512): 6.3M in 48 tensors | (b) 100 × Linear(64): 0.42M in 200 | 25.6M in 100 |
|---|---|---|---|
| reference time, $28N/B$ | 4.08 | 0.27 | 16.5 |
| `torch.optim.Adam(foreach=False)` | 12.3 (3.62x) [0.33] | 5.39 (4.23x) [0.05] | 45.0 (2.44x) [0.37] |
| `torch.optim.Adam(foreach=True)` | 11.7 (3.44x) [0.35] | 3.65 (2.87x) [0.07] | 57.6 (3.13x) [0.29] |
| `torch.optim.Adam(fused=True)` | 3.41 (1.00x) [1.20] | 1.27 (1.00x) [0.21] | 18.4 (1.00x) [0.90] |
| 1. labml `Adam`, per tensor | 10.1 (2.96x) [0.40] | 3.97 (3.12x) [0.07] | 36.8 (2.00x) [0.45] |
| 3. `FusedAdam(compiled=False)`, flat | 8.78 (2.58x) [0.46] | 0.61 (0.48x) [0.44] | 40.7 (2.21x) [0.41] |
| 4. `FusedAdam()`, flat, one pass | **2.93 (0.86x) [1.39]** | **0.48 (0.38x) [0.56]** | **15.7 (0.85x) [1.05]** |
| 4., with new gradient tensors every step | 4.70 [0.87] | 0.94 [0.29] | 26.4 [0.63] |

![Median step time against the number of parameters, for 10, 100 and 1,000 tensors, with the reference time, labelled floor (one-off)](fused_adam_bench_cpu.svg)

What the steps bought:

* **Multi-tensor operations** (`foreach=True`) save the Python round trips, which matters for
  many small tensors ((b): 5.4 → 3.7 ms), and nothing for large ones: on a CPU the passes over
  memory are the same, and its extra temporaries make it slower at 25.6M.
* **The flat buffer** removes the per-tensor cost entirely. On (b) the eager flat step is 6.5
  times faster than the per-tensor loop, and at 1,000 tensors of 100 parameters each 25 times.
  On (a) it gains 13% (10.1 → 8.78 ms), and at 25.6M it is 11% *slower* (36.8 → 40.7 ms):
  it still makes six passes over memory, and where the per-tensor loop allocates a
  denominator the size of one tensor, the flat step allocates one the size of the model
  (100 MB), which the allocator maps afresh.
* **One pass** brings large models to the reference time: 2.6 to 3.0 times faster than the eager
  flat step, at 0.95 of the reference time for 25.6M parameters, whose working set (410 MB of
  parameters, gradients and moments) fits in this machine's 480 MiB L3 cache; so do all the models
  here, which is why they can beat a main-memory time (the fractions above 1).
  Small models stay above the reference time: a step still costs some 0.1 ms of fixed Python and
  dispatch work (the compiled call, the per-parameter bookkeeping of `step_buffers`), which
  is why `torch.optim.Adam(fused=True)` on 10 tensors of 10,000 parameters is as fast as ours.
* **New gradient tensors** (after `zero_grad(set_to_none=True)`), copied into the buffer as the
  step then did for every size, added +1.8 ms on (a) and +10.6 ms at 25.6M. That is more than the
  8 bytes per parameter counted above would take at $B$ (1.2 and 4.7 ms): the copy is a pass of its
  own, one call per tensor, and writing a buffer that is not in the cache first reads it. This is
  why large gradients are now read in place.
* **The first step** with a fresh compilation cache took 11.7 s (compiling the kernel; later
  models of other sizes reuse it, 0.02 to 0.8 s). Against the per-tensor `Adam` on (a) that is won
  back after about 1,600 steps, against `torch.optim.Adam(fused=True)` after about 24,000: **not**
  within the first 100 steps.

**The allocator.** By default glibc hands large freed blocks back to the system and maps
them again, zero-filled, on the next allocation, so an optimizer that allocates a temporary
per tensor and step (`foreach=False`, `foreach=True` and our per-tensor `Adam`) pays page
faults on every step. The benchmark therefore runs with `MALLOC_MMAP_THRESHOLD_=2147483648`
and `MALLOC_TRIM_THRESHOLD_=4294967296` for every implementation alike; `--malloc default`
runs it without, and the default-environment figures are given below.

In the default environment, from a second run (load average 1.6 at its start; *one-off*), ms:

| | (a) | (b) | 25.6M in 100 |
|---|---|---|---|
| `torch.optim.Adam(foreach=False)` | 14.1 | 4.93 | 43.3 |
| `torch.optim.Adam(foreach=True)` | 13.1 | 3.41 | 81.6 |
| `torch.optim.Adam(fused=True)` | 4.19 | 1.24 | 17.8 |
| labml `Adam` | 11.6 | 3.55 | 34.6 |
| `FusedAdam(compiled=False)` | 8.98 | 0.55 | 63.3 |
| `FusedAdam()` | 3.14 | 0.46 | 16.2 |

The implementations that allocate one large temporary per step suffer most (the eager flat
step allocates a 100 MB denominator at 25.6M: 41 → 63 ms); the one-pass kernels allocate
nothing and do not care. Our `Adam` against `foreach=False` is 0.82x, 0.72x and 0.80x here.

### Goals

| goal | measured | met |
|---|---|---|
| `FusedAdam` ≤ 1.0x `torch.optim.Adam(fused=True)` per training iteration, the baseline under `THP_MEM_ALLOC_ENABLE=1` (its best documented CPU setting) | medians of 3 runs (`fused_adam_results/`): (a) 1.04x (paired 1.03x), (b) 1.01x (paired 0.97x), (c) 0.97x (paired 0.98x), (d) 0.94x (paired 0.93x); run by run (a) 1.04x, 1.03x, 0.99x, (b) 1.09x, 0.95x, 1.01x, (c) 0.98x, 0.93x, 1.10x, (d) 0.94x, 0.92x, 0.90x; the control (`fused=True` again, against `fused=True`, ratios of the medians and paired) 0.95x to 1.18x; against `fused=True` in PyTorch's default environment (a) 1.05x, (b) 1.01x, (c) 0.99x, (d) 0.94x | (a): **level within noise**, not met; (b): **not determined**: the control's ratios, 0.95x to 1.18x, leave 0.9x to 1.1x, so the runs cannot tell two identical contenders apart; (c): **level within noise**, not met; (d): met, below the control's spread |
| earlier (*one-off*, the one-process benchmark, another machine): `FusedAdam` ≤ 1.0x `torch.optim.Adam(fused=True)` per training iteration, PyTorch's defaults | medians of 3 runs: (a) 0.96x, (b) 0.96x, (c) 0.99x, (d) 0.91x; run by run (a) 0.97x, 1.00x, 0.96x, (b) 0.96x, 0.95x, 0.98x, (c) 0.96x, 0.99x, 0.99x, (d) 0.90x, 0.89x, 0.91x; the control (fused=True again) 0.96x to 1.03x; the baseline in PyTorch's default environment | (d): met, below the control's spread. (b): at the bottom edge of the control's spread, ahead by about the noise. (a) and (c): **level within noise**, not met: their ratios, 0.96x to 1.00x, lie inside the control's 0.96x to 1.03x (over ten runs of (a), 0.96x to 1.02x). Against the baseline under `THP_MEM_ALLOC_ENABLE=1`: the row above |
| `FusedAdam` ≤ 1.0x `torch.optim.Adam(fused=True)` per step, interleaved, on the model larger than the L3 cache, against both baselines | 3 runs (`fused_adam_results/step-cpu-run*.json`), (L3) 57 × Linear(1024): 59.8M in 114 (working set 1.9 × L3): against `fused=True` 0.92x, 0.94x, 0.92x; against `fused=True` under `THP_MEM_ALLOC_ENABLE=1` 0.87x, 0.89x, 0.86x | yes, in every run |
| `FusedAdam`'s step against the time a STREAM-like triad's bandwidth allows for 28 bytes per parameter (`bandwidth.py`) | the same runs: the triad's time over the step 1.46x, 1.72x, 1.68x | the step is faster than the triad in every run: the triad, as measured with PyTorch's operations, is not the memory's limit either, so no floor is claimed |
| earlier (*one-off*, another machine): `FusedAdam` ≤ 1.0x `torch.optim.Adam(fused=True)` per step, interleaved, on a model 4x the L3 cache | four runs: 0.96x, 0.92x, 0.85x and 0.95x (17.2 against 17.9, 11.7 against 12.8, 11.3 against 13.2, 18.3 against 19.2 ms); (a) 0.92x to 0.98x, (b) 0.31x to 0.33x | yes, in these four runs |
| `FusedAdam` within 1.15x of the reference time $28N/B$ on the model larger than the L3 cache ((L3): 33.6M, 16x the L3 in parameters, gradients and moments) | the same four runs, with $B$ = 46.6, 35.8, 48.0 and 42.6 GB/s: 17.2 against 20.2, 11.7 against 26.3, 11.3 against 19.6 and 18.3 against 22.1 ms, 0.85x, 0.45x, 0.58x and 0.83x; `fused=True` 0.89x, 0.49x, 0.67x and 0.87x | yes, below it in all four, and so is `fused=True`: the reference is `fused=True`'s own time on one tensor, not a floor, and it moves with the machine from run to run. Against a STREAM-like floor: not measured yet. (Earlier, *one-off*: 0.95x at 25.6M, in blocks, with the whole working set inside a 480 MiB L3, which is no test of memory speed.) |
| labml `Adam` ≤ 1.2x `torch.optim.Adam(foreach=False)`, same allocator | (a) 0.82x, (b) 0.74x, 25.6M 0.82x (earlier, *one-off*) | yes, there |
| compile cost amortised within 100 steps | 11.7 s, about 1,600 steps (earlier, *one-off*); now once per model: 11.1 s for the first with a fresh cache, 1.1 and 1.6 s for the next two | **no** |
| the same goals on a GPU | not measured | unknown |

## Measured on a GPU

Not yet: no GPU was available to us when this page was written, and we do not estimate. The
code paths are the same (the compiled kernel becomes a Triton kernel; the tests run on CUDA
when present). On a machine that has one, `python scripts/bench_training.py --device cuda`
(timed with CUDA events) and `python scripts/bench_optimizers.py --device cuda` (synchronized
around each step) produce this page's two tables; a full run of the second also draws
`fused_adam_bench_cuda.svg`.
"""

import dataclasses
import functools
import math
import mmap
import threading
from typing import Any, Callable, Optional, cast

import torch
from torch.distributed.tensor import DTensor

from labml_nn.optimizers import Group, Params, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference
from labml_nn.optimizers.torch_internals import inductor_compile_fx, raised_recompile_limit

__all__ = ["FusedAdam", "adam_kernel", "adam_kernel_many"]

# (param, grad, exp_avg, exp_avg_sq): the four tensors of one update
Quad = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def adam_kernel(
    param: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor, scalars: torch.Tensor
) -> None:
    r"""
    ## The update as one element-wise function

    * `param`, `grad`, `exp_avg` and `exp_avg_sq` are $\theta_{t-1}$, $g_t$, $m_{t-1}$ and
      $v_{t-1}$, all of one shape; `param`, `exp_avg` and `exp_avg_sq` are updated in place
    * `scalars` holds the eight numbers of this step, on the parameters' device, in their dtype or
      (for `float16` and `bfloat16`) in `float32` (see `FusedAdam.step_scalars`)

    Every mode of the Adam page is the same formula with different numbers: a mode that
    is off contributes a multiplication by one or an addition of zero, which is exact.
    So one compiled kernel serves all modes, and the numbers are passed as a tensor
    because `torch.compile` would specialise on (and recompile for) each Python float.

    Two lines differ in form from the eager kernels, for speed, and each may round the last
    bit differently:

    * `lerp` is written out as $m + w(g - m)$. That is the formula PyTorch's `lerp` uses
      for a weight $w < \frac{1}{2}$ (every $\beta_1 > \frac{1}{2}$); written as `torch.lerp` the
      compiled loop also evaluates the other branch and selects per element.
    * Dividing by $\sqrt{1-\beta_2^t}$ becomes multiplying by its reciprocal, computed once:
      one division per element instead of two. In the optimized form the factor is exactly 1.

    With both, the compiled step on 6.3M parameters held in the cache went from 1.1x
    the time of `torch.optim.Adam(fused=True)` on the same flat buffer to 0.95x (a one-off
    measurement; no script repeats it).
    """
    decay, l2, one_minus_beta1, beta2, one_minus_beta2, inv_v_scale, eps, neg_step_size = scalars.unbind()
    # $g_t \leftarrow g_t + \lambda \theta_{t-1}$ (L2 regularization; $\lambda = 0$ otherwise)
    grad = grad + l2 * param
    # $m_t \leftarrow m_{t-1} + (1-\beta_1)(g_t - m_{t-1})$
    m = exp_avg + one_minus_beta1 * (grad - exp_avg)
    # $v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2$, in the order of `addcmul_`
    v = exp_avg_sq * beta2 + one_minus_beta2 * grad * grad
    # $\sqrt{v_t}/c + \epsilon$, where $c = \sqrt{1-\beta_2^t}$ for the paper's form and $c = 1$
    # for the optimized form
    denominator = v.sqrt() * inv_v_scale + eps
    # $\theta_t \leftarrow \theta_{t-1} \cdot \text{decay} - \text{step} \cdot m_t / \text{denominator}$,
    # where the decay factor is $1 - \alpha\lambda$, $1 - \lambda$ or $1$; in the order of `addcdiv_`
    param.copy_(param * decay + neg_step_size * m / denominator)
    # Written last, so the compiled loop reads every input before it stores anything.
    exp_avg.copy_(m)
    exp_avg_sq.copy_(v)


@functools.cache
def compiled_adam_kernel():
    r"""
    ### The compiled kernel

    Made on first use, never at import. `dynamic=True` makes one kernel for every buffer
    length, so groups and models of different sizes share it; `fullgraph=True` turns a
    graph break, which would silently split the single pass, into an error.
    """
    return torch.compile(adam_kernel, dynamic=True, fullgraph=True)


def adam_kernel_many(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    scalars: torch.Tensor,
) -> None:
    r"""
    ## Many tensors in one call

    `adam_kernel` on each quadruple of the four lists, all with the same step's `scalars`. Compiled, this
    is one function that runs one loop per quadruple: the Python around a compiled call (the guards
    that check its inputs, the wrappers, about 25 µs on a CPU, a one-off timing) is paid once per step instead of once
    per tensor, which is what lets a step read large gradients where autograd left them at little
    cost per tensor.
    """
    for param, grad, exp_avg, exp_avg_sq in zip(params, grads, exp_avgs, exp_avg_sqs):
        adam_kernel(param, grad, exp_avg, exp_avg_sq, scalars)


# The most quadruples one compiled call takes; a step with more makes several calls
MAX_TENSORS_PER_CALL = 32

# How many variants of `adam_kernel_many` one process may compile: one per model (and per call, for a model
# with more than `MAX_TENSORS_PER_CALL` quadruples), where the compiler's default allows eight per function
# and, with `fullgraph=True`, fails on the ninth
MAX_VARIANTS = 256

# What a call's argument list is, flattened: `[scalars, *params, *grads, *exp_avgs, *exp_avg_sqs]`
Arguments = list[torch.Tensor]

# The compiled variants of `adam_kernel_many` so far in this process, by `variant_key`: the compiled function
# and, for each of its inputs, that input's position in the flattened argument list (see `run_kernel_many`)
COMPILED: dict[tuple[Any, ...], tuple[Callable[..., Any], list[int]]] = {}


def variant_key(params: list[torch.Tensor], scalars: torch.Tensor) -> tuple[Any, ...]:
    r"""
    ### What decides which variant a call needs

    `run_kernel_many` is only ever given 1-d contiguous tensors: flat slices of the buffers, and gradients
    seen as 1-d. A quadruple's four tensors have the same length, and all tensors of a call have one dtype
    and the device of `scalars` (a gradient of another dtype is copied into the buffer instead, and sharded
    parameters are grouped by dtype). So the lengths, that dtype, the dtype of `scalars` and the device say
    everything the compiler's guards check about the inputs; gradient mode is added because the kernel was
    compiled without autograd.
    """
    return (
        params[0].dtype,
        scalars.dtype,
        scalars.device,
        torch.is_grad_enabled(),
        *(param.numel() for param in params),
    )


class Compiling(threading.local):
    r"""
    The argument list of the call being compiled (set around the first call of a variant), and what
    `capturing_backend` made of it; one per thread.
    """

    arguments: Optional[Arguments] = None
    made: Optional[tuple[Callable[..., Any], list[int]]] = None


COMPILING = Compiling()


def capturing_backend(graph: "torch.fx.GraphModule", example_inputs: list[Any]) -> Callable[..., Any]:
    r"""
    ### The compiler's backend: Inductor, keeping what it made

    `torch.compile`'s default backend, Inductor, with one option: `size_asserts=False`. By default the
    compiled wrapper checks the sizes and strides of every input again, in Python, after the guards
    (or, for a direct call, `variant_key`) have chosen the variant for them: 101 checks per call on a
    model of 25 tensors, about 0.7 µs each when warm and several times that right after the backward
    pass (one-off timings).

    The backend also keeps the compiled function, and where each of its inputs comes from in the call's
    argument list (the compiler passes the call's own tensors as examples), so that `run_kernel_many` can
    call it directly from then on.
    """
    compile_fx = inductor_compile_fx()
    assert compile_fx is not None, "chosen only where torch has compile_fx (compiled_adam_kernel_many)"
    # A callable (the other types it may return are for ahead-of-time compilation)
    compiled = cast(Callable[..., Any], compile_fx(graph, example_inputs, config_patches={"size_asserts": False}))
    arguments = COMPILING.arguments
    if arguments is not None:
        position = {id(tensor): i for i, tensor in enumerate(arguments)}
        if all(id(tensor) in position for tensor in example_inputs):
            COMPILING.made = (compiled, [position[id(tensor)] for tensor in example_inputs])
    return compiled


@functools.cache
def compiled_adam_kernel_many():
    r"""
    ### The compiled multi-tensor kernel

    Unlike `compiled_adam_kernel`, this one is compiled for the exact lengths of its tensors
    (`dynamic=False`): a model's lists are the same on every step, so it is compiled once per model
    (and kept in PyTorch's on-disk cache, so a second run of the same model reuses it).

    On a CPU the compiled function is one C++ function with one OpenMP parallel region, in which each
    tensor's loop is split between the threads, as PyTorch's fused kernel splits each tensor.
    (Compiled for any lengths, Inductor made one loop after another on one thread instead, and its
    symbolic guards cost about 10 µs per tensor, in Python: a one-off timing.)
    """
    # Where this torch has no `compile_fx` (see torch_internals), the default backend by its public name:
    # each call then goes through `torch.compile`'s guards, correct and a little slower.
    backend = capturing_backend if inductor_compile_fx() is not None else "inductor"
    return torch.compile(adam_kernel_many, dynamic=False, fullgraph=True, backend=backend)


def run_kernel_many(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    scalars: torch.Tensor,
) -> None:
    r"""
    ### One call of the compiled multi-tensor kernel

    The first call of a variant goes through `torch.compile`, which compiles it; later calls of that
    variant call the compiled function directly. Through `torch.compile`, a call first runs the guards,
    which check every input (dtype, device, sizes, strides and more) to choose the compiled variant, and
    some 140 Python calls of wrappers around them. That costs 25 to 50 µs when the call is repeated,
    but a step runs right after the backward pass, which has pushed that code and its data out of the
    caches: there the same call took 0.31 ms on one small tensor, against 0.11 ms called directly and
    0.06 ms for PyTorch's own kernel (0.48, 0.19 and 0.12 to 0.19 ms on 25 tensors; one-off timings). `variant_key`
    says what the guards would find, so it chooses the variant instead.
    """
    arguments = [scalars, *params, *grads, *exp_avgs, *exp_avg_sqs]
    key = variant_key(params, scalars)
    compiled = COMPILED.get(key)
    if compiled is not None:
        function, order = compiled
        function(*[arguments[i] for i in order])
        return
    COMPILING.arguments, COMPILING.made = arguments, None
    try:
        # A new variant is compiled with the limit raised (see `MAX_VARIANTS`)
        with raised_recompile_limit(MAX_VARIANTS):
            compiled_adam_kernel_many()(params, grads, exp_avgs, exp_avg_sqs, scalars)
        made = COMPILING.made
    finally:
        COMPILING.arguments = COMPILING.made = None
    # Nothing was made when `torch.compile` already had this variant (after `COMPILED` was cleared,
    # say); the next call goes through it again and compiles nothing.
    if made is not None:
        COMPILED[key] = made


@dataclasses.dataclass
class FlatBuffers:
    r"""
    ## One group's parameters and state, flat

    All parameters of one parameter group that share a device and dtype, small ones first (see
    `build_flat`). Parameter $i$ of `params` occupies elements `offsets[i]` to `offsets[i+1]` of
    each of the four buffers.
    """

    params: list[torch.nn.Parameter]
    # $\theta$, $g$, $m$, $v$ of all the parameters, each a 1-d tensor
    param: torch.Tensor
    grad: torch.Tensor
    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    offsets: list[int]
    # Per parameter, its view into `grad` (what `param.grad` is set to), and into the state buffers
    grad_views: list[torch.Tensor]
    exp_avg_views: list[torch.Tensor]
    exp_avg_sq_views: list[torch.Tensor]
    # Per parameter, its elements of `param`, `exp_avg` and `exp_avg_sq` as 1-d slices, made once
    # rather than sliced again on every step
    param_slices: list[torch.Tensor]
    exp_avg_slices: list[torch.Tensor]
    exp_avg_sq_slices: list[torch.Tensor]
    # Per parameter, whether a new gradient is read where it is rather than copied (it has at least
    # `per_tensor_min_numel` elements and a contiguous slice); decided when the buffers are built
    read_in_place: list[bool]
    # `param.data_ptr()` of each parameter once it points into `param`; a mismatch means the
    # user replaced `param.data` and the buffers must be built again
    data_ptrs: list[int]
    # Each parameter's state dictionary (the one in `optimizer.state`) once it has one: looking
    # a tensor up in `optimizer.state` costs more than the rest of the per-parameter work
    states: list[Optional[dict[str, Any]]]


@functools.cache
def huge_page_size() -> int:
    r"""
    ### The size of a transparent huge page, or 0 where a program cannot ask for them

    Linux backs memory that a program marks with `madvise(MADV_HUGEPAGE)` by 2 MiB pages, when its
    transparent huge pages are set to `always` or `madvise` (most distributions); set to `never`, or on
    another system, there is nothing to ask for. Where the base page is larger (arm64 kernels with 16 or
    64 KiB pages), a huge page is 32 or 512 MiB, and a buffer rounded up to whole ones could waste that
    much; those are not used either.
    """
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return 0
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            if "[never]" in f.read():
                return 0
        with open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") as f:
            size = int(f.read())
    except (OSError, ValueError):
        return 0
    return size if size <= 2**21 else 0


def flat_zeros(numel: int, dtype: torch.dtype, device: torch.device, huge_pages: bool) -> torch.Tensor:
    r"""
    ### A 1-d buffer of zeros, in huge pages when asked for and offered

    Memory is mapped in pages, 4 KiB each by default, and the processor translates every address
    through a small cache of page translations (the TLB, a few thousand entries). A 25 MB buffer spans
    some 6,000 pages; each translation that misses the cache walks the page tables (in a virtual
    machine, two sets of them), and the matrix products of the forward and backward passes read a
    weight in blocks that cross many pages. In pages of 2 MiB the same buffer spans 13.

    On a CPU whose system offers them (`huge_page_size`), a buffer of at least one huge page is
    therefore its own private anonymous mapping, marked `MADV_HUGEPAGE` before anything touches it, and
    started at a huge-page boundary, so that the kernel can back it by huge pages from the first write.
    New anonymous memory reads as zeros, so there is nothing to fill. The tensor owns the mapping
    (`torch.frombuffer` keeps the `mmap` object alive), and the mapping goes when the last view of the
    buffer does. The last huge page is whole even where the buffer ends inside it, so a buffer can take
    up to one huge page more memory than its elements. If the kernel has no huge page free it uses
    4 KiB pages: slower, not wrong.
    """
    huge = huge_page_size() if huge_pages and device.type == "cpu" else 0
    nbytes = numel * dtype.itemsize
    if huge == 0 or nbytes < huge:
        return torch.zeros(numel, dtype=dtype, device=device)
    try:
        # Whole huge pages, and one more to move the start to a boundary
        length = -(-nbytes // huge) * huge + huge
        memory = mmap.mmap(-1, length, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        memory.madvise(mmap.MADV_HUGEPAGE)
    except OSError:
        # Out of address space, or a kernel that refuses the advice: ordinary memory does the same job.
        return torch.zeros(numel, dtype=dtype, device=device)
    # The storage is exactly the buffer, not the whole mapping: `torch.save` writes a view's whole storage.
    start = -torch.frombuffer(memory, dtype=torch.uint8, count=1).data_ptr() % huge
    return torch.frombuffer(memory, dtype=dtype, count=numel, offset=start)


def view_like(flat: torch.Tensor, start: int, like: torch.Tensor) -> torch.Tensor:
    r"""
    ### A view of `flat`, from `start`, with the shape and memory layout of `like`

    `empty_like` with `preserve_format` keeps the strides of a dense tensor (contiguous,
    transposed, `channels_last`) and chooses contiguous strides for any other; asking a meta
    tensor for them allocates nothing. The view then covers exactly `like.numel()` elements.
    """
    strides = torch.empty_like(like, device="meta", memory_format=torch.preserve_format).stride()
    return flat.as_strided(like.shape, strides, flat.storage_offset() + start)


class FusedAdam(Adam):
    r"""
    ## Fused Adam

    A subclass of [`Adam`](adam.html): it takes the same arguments, validates them the same
    way, keeps the same parameter groups and the same per-parameter state (`step`,
    `exp_avg`, `exp_avg_sq`), so `state_dict()` moves freely between the two. Only `step()`
    is new.
    """

    # A parameter of at least this many elements has its gradient read where autograd left it, as
    # one more loop of the step's compiled call; smaller ones have their gradients copied into the
    # flat buffer, where they form one run. Copying reads and writes 8 bytes per element; a loop of
    # its own costs about 2 µs of checks per step (a one-off timing) and adds to what is compiled for the model. 64Ki
    # gives weight matrices their own loops and copies biases and norms, which are many and small.
    # Read when the buffers are built (on the first `step()`, and after a change of the parameters).
    per_tensor_min_numel = 2**16
    # The buffers of a CPU model of at least 2 MiB ask for huge pages (`flat_zeros`): fewer address
    # translations for the forward and backward passes, which read the parameters, and for the step.
    # Read when the buffers are built.
    huge_pages = True

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: WeightDecay = WeightDecay(),
        optimized_update: bool = True,
        compiled: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        The arguments are those of [`Adam`](adam.html), and

        * `compiled` runs the update as one compiled pass (`torch.compile`; on a CPU it needs
          a C++ compiler at run time) when true, and as Adam's own eager operations over the
          flat buffers when false

        `compiled` is not a hyper-parameter: it does not change a single number, so it is not
        kept in the parameter groups, and a `state_dict()` stays loadable by `Adam`.
        """
        # Built lazily, on the first `step()`, so that parameters can still be moved
        # between devices after the optimizer is made; `None` means "build again".
        self.flat: Optional[list[list[FlatBuffers]]] = None
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            optimized_update=optimized_update,
            defaults=defaults,
            maximize=maximize,
        )
        # The compiled kernel is Adam's update written out, so it honours `get_lr` (a schedule
        # built into a subclass still applies) but not an override of `get_mv` or `adam_update`
        # (AMSGrad's maximum, RAdam's rectification). Such a subclass would silently run plain
        # Adam, so it is refused; with `compiled=False` the eager path calls the hooks.
        overridden = [
            name for name in ("get_mv", "adam_update") if getattr(type(self), name) is not getattr(Adam, name)
        ]
        if compiled and overridden:
            raise TypeError(
                f"{type(self).__name__} overrides {', '.join(overridden)}, which the compiled "
                f"kernel of FusedAdam does not call; use compiled=False"
            )
        self.compiled = compiled

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        r"""
        ### A new group invalidates the flat buffers
        """
        super().add_param_group(param_group)
        self.flat = None

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""
        ### Load a state

        PyTorch puts the loaded moments into `self.state` as separate tensors; building the
        buffers again copies them in and points the state at views of the buffers.
        """
        super().load_state_dict(state_dict)
        self.flat = None

    def build_flat(self, group: Group) -> list[FlatBuffers]:
        r"""
        ### Flatten one parameter group

        One `FlatBuffers` per (device, dtype) in the group, since a buffer has one of each.
        """
        by_kind: dict[tuple[torch.device, torch.dtype], list[torch.nn.Parameter]] = {}
        for param in group["params"]:
            # A sharded parameter's storage belongs to FSDP, which gathers the full parameter
            # from it; it is updated where it lies (see `step_sharded`).
            if not isinstance(param, DTensor):
                by_kind.setdefault((param.device, param.dtype), []).append(param)

        result = []
        for (device, dtype), params in by_kind.items():
            # Small parameters first, then large ones, each in the group's order: the small ones, whose
            # gradients are copied into the buffer, then form one run and share one kernel call even
            # when they alternate with large ones (a layer's weight and bias).
            params = sorted(params, key=lambda p: p.numel() >= self.per_tensor_min_numel)
            offsets = [0]
            for param in params:
                offsets.append(offsets[-1] + param.numel())
            # Zeros: a parameter that has no gradient yet must not hold garbage in the buffer
            # in case the whole-buffer path ever reads it.
            flat_param, flat_grad, flat_m, flat_v = (
                flat_zeros(offsets[-1], dtype, device, self.huge_pages) for _ in range(4)
            )
            grad_views, m_views, v_views, states = [], [], [], []
            for param, start in zip(params, offsets):
                p_view = view_like(flat_param, start, param)
                p_view.copy_(param.detach())
                # The parameter now lives in the buffer; the `Parameter` object is unchanged.
                param.data = p_view
                g_view, m_view, v_view = (view_like(flat, start, param) for flat in (flat_grad, flat_m, flat_v))
                if param.grad is not None:
                    self.check_grad(param.grad)
                    g_view.copy_(param.grad)
                    param.grad = g_view
                # Moments that exist (from earlier steps or from `load_state_dict`) move into
                # the buffers; a parameter without state gets its state on its first gradient.
                state = self.state.get(param)
                if state:
                    m_view.copy_(state["exp_avg"])
                    v_view.copy_(state["exp_avg_sq"])
                    state["exp_avg"], state["exp_avg_sq"] = m_view, v_view
                states.append(state or None)
                grad_views.append(g_view)
                m_views.append(m_view)
                v_views.append(v_view)
            p_slices, m_slices, v_slices = (
                [flat[a:b] for a, b in zip(offsets, offsets[1:])] for flat in (flat_param, flat_m, flat_v)
            )
            result.append(
                FlatBuffers(
                    params,
                    flat_param,
                    flat_grad,
                    flat_m,
                    flat_v,
                    offsets,
                    grad_views,
                    m_views,
                    v_views,
                    p_slices,
                    m_slices,
                    v_slices,
                    [v.numel() >= self.per_tensor_min_numel and v.is_contiguous() for v in grad_views],
                    [p.data_ptr() for p in params],
                    states,
                )
            )
        return result

    def check_grad(self, grad: torch.Tensor) -> None:
        r"""
        ### Refuse sparse gradients, as `Adam` does
        """
        if grad.is_sparse:
            raise RuntimeError(
                f"{type(self).__name__} does not support sparse gradients; "
                f"use torch.optim.SparseAdam for sparse embeddings"
            )

    def step_scalars(self, group: Group, step: int, like: torch.Tensor) -> torch.Tensor:
        r"""
        ### The eight numbers of `adam_kernel` for step $t$

        They are computed in Python floats, as the Adam page computes them, and rounded once to the
        dtype an eager kernel computes in for the parameters' dtype, as it rounds a Python scalar:
        the parameters' own, or `float32` for `float16` and `bfloat16`. Rounded to those, $\beta_2 = 0.999$
        would become 1 (in `bfloat16`) and $\epsilon = 10^{-8}$ would become 0 (in `float16`, which then
        divides zero by zero wherever a gradient was zero).
        """
        beta1, beta2 = group["betas"]
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        # Adam's `get_lr` sees the state with its step already counted.
        lr = float(self.get_lr({"step": step}, group))

        weight_decay = group["weight_decay"]
        decay, l2 = 1.0, 0.0
        if weight_decay != 0.0:
            if not group["weight_decouple"]:
                l2 = weight_decay
            elif group["weight_decay_absolute"]:
                decay = 1.0 - weight_decay
            else:
                decay = 1.0 - lr * weight_decay

        if group["optimized_update"]:
            # $\sqrt{v_t} + \hat\epsilon$ and step $\alpha \sqrt{1-\beta_2^t} / (1-\beta_1^t)$
            inv_v_scale = 1.0
            step_size = lr * math.sqrt(bias_correction2) / bias_correction1
        else:
            # $\sqrt{v_t} / \sqrt{1-\beta_2^t} + \epsilon$ and step $\alpha / (1-\beta_1^t)$
            inv_v_scale = 1.0 / math.sqrt(bias_correction2)
            step_size = lr / bias_correction1
        values = [decay, l2, 1 - beta1, beta2, 1 - beta2, inv_v_scale, group["eps"], -step_size]
        # At least `float32`: the parameters' dtype, or `float32` for narrower ones
        dtype = torch.promote_types(like.dtype, torch.float32)
        return torch.tensor(values, dtype=dtype).to(like.device, non_blocking=True)

    def update(
        self,
        group: Group,
        step: int,
        param: torch.Tensor,
        grad: torch.Tensor,
        exp_avg: torch.Tensor,
        exp_avg_sq: torch.Tensor,
    ) -> None:
        r"""
        ### Update one tensor, or one run of the flat buffers

        `param`, `exp_avg` and `exp_avg_sq` are of one shape, and so is `grad`, or it has the same
        elements in the same order (a parameter's gradient seen as 1-d); `step` is $t-1$.
        """
        if param.numel() == 0:
            return
        # `maximize` steps on $-g_t$, in a new tensor (the base class's `step()`, which negates it for
        # the other optimizers, is not used here)
        if group.get("maximize", False):
            grad = grad.neg()
        if self.compiled:
            scalars = self.step_scalars(group, step + 1, param)
            compiled_adam_kernel()(param, grad, exp_avg, exp_avg_sq, scalars)
        else:
            # Adam's own `step_param` on the flat slices: the same operations as the per-tensor
            # loop, a handful of calls in all instead of a handful per tensor.
            flat_state = {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
            self.step_param(flat_state, group, grad, param)

    def update_many(self, group: Group, step: int, quads: list[Quad]) -> None:
        r"""
        ### Update many tensors that share a step count

        Each quadruple is (`param`, `grad`, `exp_avg`, `exp_avg_sq`) as `update` takes them. Eager, each is
        an `update`. Compiled, they go to `adam_kernel_many` in calls of at most `MAX_TENSORS_PER_CALL`,
        with the step's eight numbers computed once.
        """
        quads = [quad for quad in quads if quad[0].numel() > 0]
        if not quads:
            return
        if not self.compiled:
            for quad in quads:
                self.update(group, step, *quad)
            return
        if group.get("maximize", False):
            quads = [(param, grad.neg(), exp_avg, exp_avg_sq) for param, grad, exp_avg, exp_avg_sq in quads]
        scalars = self.step_scalars(group, step + 1, quads[0][0])
        for start in range(0, len(quads), MAX_TENSORS_PER_CALL):
            params, grads, exp_avgs, exp_avg_sqs = (
                list(column) for column in zip(*quads[start : start + MAX_TENSORS_PER_CALL])
            )
            run_kernel_many(params, grads, exp_avgs, exp_avg_sqs, scalars)

    @torch.no_grad()
    def step(self, closure=None) -> Optional[torch.Tensor]:  # type: ignore[override]  # torch's stub types the closure's loss as float; like torch.optim's own optimizers we return what it returns
        r"""
        ### Take an optimization step
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        if self.flat is None:
            self.flat = [self.build_flat(group) for group in self.param_groups]
        # Someone set a `param.data` to a new tensor: flatten that group again, before any
        # update, so that a step never mixes old and new buffers.
        for i, group in enumerate(self.param_groups):
            if any([p.data_ptr() for p in buffers.params] != buffers.data_ptrs for buffers in self.flat[i]):
                self.flat[i] = self.build_flat(group)

        for group, group_flat in zip(self.param_groups, self.flat):
            for buffers in group_flat:
                self.step_buffers(group, buffers)
            # Every parameter of the group is in some buffers unless some are sharded.
            if sum(len(buffers.params) for buffers in group_flat) < len(group["params"]):
                self.step_sharded(group)
        return loss

    def step_sharded(self, group: Group) -> None:
        r"""
        ### Step the sharded parameters of a group, each on this rank's shard

        Under FSDP2 (`torch.distributed.fsdp.fully_shard`) a parameter is a `DTensor`: each rank
        holds one shard of it, in storage that FSDP owns and gathers the full parameter from, and
        the gradient arrives as a shard of the same layout. Adam is element-wise, so a shard's
        update needs nothing from the other ranks: we run the same kernel on the local tensors.
        Contiguous shards (FSDP2 shards along the first dimension, so that is the rule), seen as 1-d,
        go to `update_many` together, as the runs of the flat buffers do: one compiled call per step
        for all of this rank's shards of one dtype and device. A call's tensors must share its dtype and
        device (`variant_key`), and FSDP2 lets modules sharded apart have different dtypes, so shards are
        grouped by step count, dtype and device, and a shard whose gradient or state differs from it in
        either is updated by itself, as is one of any other layout, in its own shape. The
        state stays a `DTensor` of the parameter's layout, as `torch.optim.Adam` keeps it, so
        distributed checkpoints see the usual state.
        """
        quads: dict[tuple[int, torch.dtype, torch.device], list[Quad]] = {}  # by step count, dtype and device
        for param in group["params"]:
            if not isinstance(param, DTensor) or param.grad is None:
                continue
            self.check_grad(param.grad)
            state = self.state[param]
            if len(state) == 0:
                self.init_state(state, group, param)
            step = state["step"]
            state["step"] = step + 1
            # Under `no_grad`, `to_local()` is the shard itself, not a copy, so updates land in FSDP's storage.
            # A DTensor parameter's gradient is a DTensor of the same layout.
            grad = cast(DTensor, param.grad)
            local = (param.to_local(), grad.to_local(), state["exp_avg"].to_local(), state["exp_avg_sq"].to_local())
            kind = (local[0].dtype, local[0].device)
            if all(t.is_contiguous() and (t.dtype, t.device) == kind for t in local):
                # A contiguous tensor seen as 1-d: its elements, in the same order, as `adam_kernel_many` takes them
                quads.setdefault((step, *kind), []).append(cast(Quad, tuple(t.view(-1) for t in local)))
            else:
                self.update(group, step, *local)
        for (step, _, _), step_quads in quads.items():
            self.update_many(group, step, step_quads)

    def step_buffers(self, group: Group, buffers: FlatBuffers) -> None:
        r"""
        ### Step one set of flat buffers

        A gradient that is already in the flat buffer (a view of it, into which autograd
        accumulated) needs nothing. A new gradient tensor, as autograd makes after
        `zero_grad(set_to_none=True)`, is handled by its size:

        * a small one is copied into the buffer, and `param.grad` becomes the view, so that
          consecutive small parameters form one run of the buffers;
        * a large one (`per_tensor_min_numel` or more elements) is read where it is, with the
          parameter's slices of the other buffers: no copy, and `param.grad` stays the tensor
          autograd made.

        Parameters without a gradient are skipped, as in `Adam`, and so the buffers fall into runs
        of consecutive parameters that have a gradient in the buffer and share a step count;
        parameters whose counts differ (after some of them were frozen for a while, say) get each
        their own bias correction. The runs and the large parameters of one step count then go to
        `update_many` together: in the common case, one compiled call per step.
        """
        quads: dict[int, list[Quad]] = {}  # by step count
        run: Optional[list[int]] = None  # [first parameter, last parameter + 1, step count] of the open run

        def close(run: list[int]) -> None:
            a, b = buffers.offsets[run[0]], buffers.offsets[run[1]]
            flats = (buffers.param, buffers.grad, buffers.exp_avg, buffers.exp_avg_sq)
            quads.setdefault(run[2], []).append(cast(Quad, tuple(flat[a:b] for flat in flats)))

        states, grad_views, read_in_place = buffers.states, buffers.grad_views, buffers.read_in_place
        for i, param in enumerate(buffers.params):
            grad = param.grad
            if grad is None:
                continue
            state = states[i]
            if state is None:
                # `Adam.init_state`'s state, with the moments as views of the buffers
                state = self.state[param]
                state.update(step=0, exp_avg=buffers.exp_avg_views[i], exp_avg_sq=buffers.exp_avg_sq_views[i])
                states[i] = state
            step = state["step"]
            state["step"] = step + 1
            view = grad_views[i]
            if grad is not view:
                self.check_grad(grad)
                # A contiguous gradient of a contiguous parameter lists its elements in the order of
                # the parameter's slice; any other layout is copied, which puts it in that order.
                if read_in_place[i] and grad.is_contiguous() and grad.dtype == view.dtype:
                    quads.setdefault(step, []).append(
                        (
                            buffers.param_slices[i],
                            grad.view(-1),
                            buffers.exp_avg_slices[i],
                            buffers.exp_avg_sq_slices[i],
                        )
                    )
                    continue
                view.copy_(grad)
                param.grad = view
            if run is not None and run[1] == i and run[2] == step:
                run[1] = i + 1
            else:
                if run is not None:
                    close(run)
                run = [i, i + 1, step]
        if run is not None:
            close(run)
        for step, step_quads in quads.items():
            self.update_many(group, step, step_quads)


# ## Exercises
#
# :::: exercise Counting the bytes of the per-tensor loop
# Count the bytes per `float32` parameter that each operation of the [Adam page](adam.html)'s `get_mv` and
# `adam_update` reads and writes, with the default `optimized_update=True`, and check the "about 64 bytes" above.
# How many does `optimized_update=False` move? Where memory speed is all that counts, how much longer than
# `adam_kernel`'s 28 bytes does each take?
#
# ::: answer
# Each tensor read or written costs 4 bytes per parameter. `m.lerp_(g)` reads $m$ and $g$ and writes $m$: 12.
# `v.mul_(β₂)` reads and writes $v$: 8. `v.addcmul_(g, g)` reads $v$ and $g$ and writes $v$: 12. `v.sqrt()` reads
# $v$ and writes a new tensor $d$: 8. `d.add_(ε)`: 8. `θ.addcdiv_(m, d)` reads $\theta$, $m$ and $d$ and writes
# $\theta$: 16. That is 64 bytes. The paper's form divides $\sqrt{v_t}$ by $\sqrt{1-\beta_2^t}$ in one more pass
# over $d$, 8 bytes more: 72. Against 28 bytes, a memory-bound per-tensor step takes $64/28 = 2.29$ or
# $72/28 = 2.57$ times as long as the one-pass kernel.
# :::
# ::::
#
# :::: exercise The eight numbers of the first step
# For the first step ($t = 1$), with $\alpha = 10^{-3}$, the default betas and no weight decay, what do
# `inv_v_scale` and `neg_step_size` of `step_scalars` hold in each form of the update? Why do the two forms take the
# same step when $\epsilon$ is negligible?
#
# ::: answer
# In the optimized form `inv_v_scale` is 1 and `neg_step_size` is
# $-\alpha\sqrt{1-\beta_2}/(1-\beta_1) = -3.162 \times 10^{-4}$. In the paper's form `inv_v_scale` is
# $1/\sqrt{1-\beta_2} = 31.62$ and `neg_step_size` is $-\alpha/(1-\beta_1) = -0.01$. Without $\epsilon$ the step is
# `neg_step_size` $\cdot\, m_1/\sqrt{v_1}$ divided by `inv_v_scale`, and the two forms put the same factor
# $\sqrt{1-\beta_2} = 0.0316$ on the step size or on the denominator: $-3.162 \times 10^{-4}/1 = -0.01/31.62$. They
# differ only in where $\epsilon$ sits, as on the [Adam page](adam.html).
# :::
# ::::
#
# :::: exercise When compiling pays for model (b)
# In the one-off table of *Earlier: one step, in blocks*, the first compiled step took 11.7 s, and a step on (b)
# took 3.97 ms with the per-tensor `Adam`, 1.27 ms with `torch.optim.Adam(fused=True)` and 0.48 ms with
# `FusedAdam()`. After how many steps is the compilation won back against each? (The page does this for (a):
# about 1,600 and 24,000 steps.)
#
# ::: answer
# A step saves $3.97 - 0.48 = 3.49$ ms against the per-tensor loop and $1.27 - 0.48 = 0.79$ ms against
# `fused=True`, so the 11.7 s are won back after about $11700/3.49 \approx 3350$ and $11700/0.79 \approx 14800$
# steps. That is later than on (a) against the per-tensor loop, which there costs $10.1 - 2.93 = 7.17$ ms more per
# step, and sooner against `fused=True`, which there costs only $3.41 - 2.93 = 0.48$ ms more: on a model of many
# small tensors `fused=True`'s cost per tensor is what the flat buffer saves.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. The tests and the experiment take the eager
# path, `compiled=False`: it changes no number (see above), and compiling costs more than a short run. The
# distributed matrix runs the compiled kernel as well, under DDP and ZeRO on the flat buffers and under FSDP2 on
# each rank's local shards together.
ENTRY = OptimizerEntry(
    FusedAdam,
    paper="https://arxiv.org/abs/1412.6980",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1), compiled=False),
    reference=Reference(
        torch.optim.Adam,
        ours=dict(lr=1e-2, eps=1e-8, optimized_update=False, compiled=False),
        theirs=dict(lr=1e-2, eps=1e-8, foreach=False),
    ),
    experiment=ExperimentLine("fused-adam", 1e-3, dict(compiled=False), position=9),
    variants={"compiled": dict(compiled=True)},
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with FusedAdam, and a twin trained with
# `torch.optim.Adam` on the same gradients. As on the [Adam](adam.html) page, `optimized_update=False` and
# `eps=1e-8` give PyTorch's update. The first step compiles the kernel, which takes a few seconds. The
# compiled kernel may round an operation differently from PyTorch's (it may fuse a multiply and an add),
# so the difference printed is a few ulps rather than 0; near $10^{-12}$ it would be a different update.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: FusedAdam(params, lr=1e-2, eps=1e-8, optimized_update=False),
        lambda params: torch.optim.Adam(params, lr=1e-2, eps=1e-8),
        name="FusedAdam",
        reference_name="torch.optim.Adam",
    )
