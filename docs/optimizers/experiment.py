# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Comparing the chapter's optimizers on real data
notebook_args: --quick
summary: A resumable, byte-reproducible experiment, tracked with labml, that tunes nineteen of the chapter's optimizers and torch.optim.AdamW with the same learning-rate sweep on a digit-recognition CNN and a character-level transformer, and reports test metrics over three seeds.
---

# Comparing the chapter's optimizers on real data

The other pages of this chapter check that each optimizer does what its paper says, step by
step. This page asks the question a learner asks next: on a real task, given the same effort to
tune it, which one trains better? It is a command that trains twenty optimizers on two small
real tasks, and the results of running it: nineteen of the chapter's (momentum SGD, Adagrad,
RMSProp, Adam, AdamW, AMSGrad, RAdam, AdaBelief, NAdam, Lion, Adafactor, FusedAdam, Muon,
Schedule-Free AdamW, AdamW with warm-up and cosine decay, LARS, LAMB, Shampoo and SOAP) and
`torch.optim.AdamW` as the baseline. It does not run [Sophia](sophia.html), [mixed precision](mixed_precision.html),
[warm-up](adam_warmup.html) on its own or [Noam](noam.html): Sophia needs a Hessian estimate every few
steps, a change to the training loop that no other line needs; mixed precision is Adam on
low-precision weights, not another update rule, and these models have none; warm-up is run only as
a part of the two lines that schedule their rate, so its effect alone is not measured; and Noam's
peak rate, $\alpha / \sqrt{d_{model} w}$, is set by the model's width and a warm-up that its paper
chose for $d_{model} = 512$ and 4,000 steps, more steps than either task's whole run. Each of these
pages says, beside its entry in the chapter's [registry](registry.html), why it has no line. The
[training example](train_example.html) is the same loop at its smallest (one model, one optimizer
chosen by name, a few seconds); this page adds the sweep, the seeds and the held-out test.

```shell
pip install -e '.[experiments]'                      # labml and scikit-learn
python -m labml_nn.optimizers.experiment             # the full protocol
python -m labml_nn.optimizers.experiment --quick     # a reduced protocol, under 2 minutes on 2 CPUs
python -m labml_nn.optimizers.experiment --device cuda
```

## The two tasks

Both data sets ship inside a package, so nothing is downloaded ([data](experiment_data.html),
[models](experiment_models.html)):

* **Digits.** A CNN of 38,282 parameters (two $3 \times 3$ convolutions, a max-pool, two dense
  layers) classifies scikit-learn's 1,797 handwritten $8 \times 8$ digits, split once into 1,077
  training, 360 validation and 360 test images. 400 steps of batches of 64, about 24 epochs.
  The metric is test accuracy.
* **Text.** A character-level causal transformer of 116,705 parameters (2 pre-norm layers,
  $d = 64$, 4 heads, context 64) reads the 464,970 characters of help text that ship with
  CPython (`pydoc_data.topics`), cut by position into 90% training, 5% validation and 5% test.
  200 steps of 16 windows, about half an epoch. The metric is bits per character on 96 fixed
  windows (6,144 characters) of the test text. The topics are joined in the order of their names,
  so the held-out text is the alphabetically last topics: validation is the end of `typesmapping`,
  `typesmethods`, `typesmodules` and the start of `typesseq`; the test split is six topics, the end
  of `typesseq`, then `typesseq-mutable`, `unary`, `while`, `with` and `yield`.
  The corpus changes with CPython, even between patch releases, so the text results hold for the
  Python that made them: 3.11.7 (see the results below).

## The protocol

Equal tuning effort, in the spirit of AlgoPerf
([Dahl et al., 2023](https://arxiv.org/abs/2306.07179)), at a much smaller scale:

1. every optimizer gets the same five learning rates, $\alpha_0 \cdot 10^{k/2}$ for
   $k = -2, \dots, 2$, around $\alpha_0$, the rate it is usually run with (each page's registry entry gives its
   $\alpha_0$, with the reason for it);
2. the rate with the lowest final validation loss, with seed 0, is chosen;
3. that rate is run again with seeds 1 and 2 (a seed sets the initial weights and the batches);
4. the test loss and metric are reported as mean $\pm$ sample standard deviation over the 3 seeds,
   seed 0 included. Seed 0's run is the one that won the sweep, so it is chosen rather than
   drawn, and the means lean its way: on the digits, RMSProp's seed 0 reached 99.2% and its
   seeds 1 and 2 97.8% and 97.2%. In 20 of the 40 rows seed 0 is the best of
   the three outright, where a drawn seed would be in at most about a third of them.

Nothing else is tuned: betas, $\epsilon$ and weight decay are each class's defaults (the few
arguments an entry does set are explained beside it), and the rate is constant, with no warm-up and no
decay, for every line but two. `adamw-cosine` is AdamW with a linear warm-up over the first 5% of the
run and a cosine decay to $0$ at its last step; `schedule-free` warms up over the same 5% and then
keeps its rate, as Schedule-Free AdamW is meant to. For both, the swept rate is the peak. That is a
choice with consequences, discussed below: a schedule might help some optimizers more than others,
and only AdamW is run with a decaying one.

## Results

Run on 2026-12-07 with `python -m labml_nn.optimizers.experiment --no-labml --out <folder>`, from
nothing, on an Intel Xeon with 2 CPUs (Python 3.11.7, PyTorch 2.13.0 for the CPU, one thread), under
`nice` while other jobs (a benchmark and tests) shared the machine: 224 runs of the first sixteen
lines in 607 seconds of wall time, with no interruption. The four newer lines were appended later
that day, on the same machine and build, in three more sessions of the same command with
`--optimizers`: LARS and LAMB, 28 runs in 300 seconds; LAMB again, 14 runs in 139 seconds, after
its page moved its usual rate from $5 \cdot 10^{-3}$ to $10^{-2}$ (the first session's LAMB rows,
the last in the file, were deleted, so that its sweep is the one its page now states); then Shampoo
and SOAP, 28 runs in 352 seconds. Each ran under `nice` while tests, builds and other experiments
kept the machine's load average at about 6 to 10 on its 2 CPUs, so those times say more about the
load than about the optimizers. The first sixteen lines' results were left as they were: the new
rows follow them (see the last section). The 280 runs' `results.csv`, `protocol.json`,
`environment.jsonl` and figures are committed in [`experiment_results/`](experiment_results/results.csv):

```shell
python -m labml_nn.optimizers.experiment --out labml_nn/optimizers/experiment_results --plot-only
```

redraws the figures from them, and the same command without `--plot-only` finds every run done.

`environment.jsonl` holds one line for each of the four sessions that made them, the same in all
four: `sys.version` (3.11.7), the machine ("Intel(R) Xeon(R) Processor, 2 CPUs, Python 3.11.7,
torch 2.13.0+cpu, 1 thread(s)"), the device, and the text corpus's length and SHA-256: the 464,970
characters of 3.11.7's `pydoc_data.topics` described above.

![Validation curves of every optimizer at its chosen rate, mean and range over 3 seeds, for the digits and the text](experiment_results/loss_curves.svg)

![Final validation score against the learning rate, for each optimizer and task](experiment_results/lr_sensitivity.svg)

![The table of test results](experiment_results/results_table.svg)

Test results at the chosen rate, mean $\pm$ standard deviation over 3 seeds, best first. A rate
marked ↑ is the top of its sweep, so the best rate may lie above it. Each optimizer's name links to its page;
`torch-adamw` to PyTorch's documentation. The tables are made by `results_table` and `paired_table`
from the committed `results.csv`, and the tests check that the page shows what they make.

| Digits | Chosen rate | Test loss (nats) | Test accuracy |
|---|---|---|---|
| [soap](soap.html) | 0.000949 | 0.033 ± 0.004 | 99.1 ± 0.3 % |
| [nadam](nadam.html) | 0.02 ↑ | 0.039 ± 0.013 | 99.0 ± 0.6 % |
| [adafactor](adafactor.html) | 0.01 ↑ | 0.035 ± 0.016 | 99.0 ± 0.4 % |
| [adabelief](ada_belief.html) | 0.01 ↑ | 0.056 ± 0.021 | 98.8 ± 0.3 % |
| [shampoo](shampoo.html) | 0.000949 | 0.042 ± 0.007 | 98.6 ± 0.3 % |
| [radam](radam.html) | 0.01 ↑ | 0.054 ± 0.016 | 98.5 ± 0.3 % |
| [adamw-cosine](adam_warmup_cosine_decay.html) | 0.01 ↑ | 0.054 ± 0.007 | 98.5 ± 0.2 % |
| [muon](muon.html) | 0.02 | 0.049 ± 0.012 | 98.4 ± 0.4 % |
| [amsgrad](amsgrad.html) | 0.00316 | 0.058 ± 0.011 | 98.3 ± 0.5 % |
| [adagrad](adagrad.html) | 0.0316 | 0.049 ± 0.014 | 98.3 ± 0.5 % |
| [adamw](adamw.html) | 0.00316 | 0.059 ± 0.010 | 98.3 ± 0.6 % |
| [adam](adam.html) | 0.00316 | 0.060 ± 0.012 | 98.2 ± 0.4 % |
| [fused-adam](fused_adam.html) | 0.00316 | 0.060 ± 0.012 | 98.2 ± 0.4 % |
| [torch-adamw](https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html) | 0.00316 | 0.059 ± 0.010 | 98.1 ± 0.3 % |
| [rmsprop](rmsprop.html) | 0.00316 | 0.049 ± 0.017 | 98.1 ± 1.0 % |
| [sgd-momentum](sgd.html) | 0.1 | 0.092 ± 0.020 | 97.7 ± 1.2 % |
| [schedule-free](schedule_free.html) | 0.0025 | 0.090 ± 0.017 | 97.3 ± 0.8 % |
| [lamb](lars_lamb.html) | 0.01 | 0.084 ± 0.036 | 96.9 ± 1.3 % |
| [lion](lion.html) | 0.000316 | 0.143 ± 0.015 | 96.7 ± 0.3 % |
| [lars](lars_lamb.html) | 0.1 | 0.134 ± 0.005 | 95.8 ± 0.7 % |

| Text | Chosen rate | Test loss (nats) | Test bits per character |
|---|---|---|---|
| [soap](soap.html) | 0.00949 | 1.850 ± 0.028 | 2.669 ± 0.041 |
| [muon](muon.html) | 0.02 | 1.968 ± 0.021 | 2.840 ± 0.030 |
| [shampoo](shampoo.html) | 0.003 | 2.038 ± 0.023 | 2.940 ± 0.033 |
| [schedule-free](schedule_free.html) | 0.0025 | 2.056 ± 0.006 | 2.967 ± 0.009 |
| [lion](lion.html) | 0.001 ↑ | 2.057 ± 0.012 | 2.967 ± 0.018 |
| [adam](adam.html) | 0.00316 | 2.060 ± 0.025 | 2.973 ± 0.036 |
| [fused-adam](fused_adam.html) | 0.00316 | 2.060 ± 0.025 | 2.973 ± 0.036 |
| [amsgrad](amsgrad.html) | 0.00316 | 2.061 ± 0.026 | 2.974 ± 0.038 |
| [adamw](adamw.html) | 0.00316 | 2.063 ± 0.025 | 2.976 ± 0.036 |
| [torch-adamw](https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html) | 0.00316 | 2.063 ± 0.025 | 2.976 ± 0.036 |
| [adabelief](ada_belief.html) | 0.01 ↑ | 2.082 ± 0.005 | 3.004 ± 0.007 |
| [nadam](nadam.html) | 0.002 | 2.083 ± 0.026 | 3.005 ± 0.038 |
| [radam](radam.html) | 0.01 ↑ | 2.085 ± 0.007 | 3.009 ± 0.010 |
| [lamb](lars_lamb.html) | 0.01 | 2.109 ± 0.010 | 3.043 ± 0.014 |
| [adamw-cosine](adam_warmup_cosine_decay.html) | 0.00316 | 2.128 ± 0.022 | 3.070 ± 0.031 |
| [adafactor](adafactor.html) | 0.00316 | 2.137 ± 0.018 | 3.083 ± 0.026 |
| [sgd-momentum](sgd.html) | 0.1 | 2.146 ± 0.010 | 3.096 ± 0.014 |
| [rmsprop](rmsprop.html) | 0.001 | 2.216 ± 0.029 | 3.197 ± 0.042 |
| [adagrad](adagrad.html) | 0.01 | 2.256 ± 0.097 | 3.254 ± 0.140 |
| [lars](lars_lamb.html) | 0.316 | 2.360 ± 0.058 | 3.405 ± 0.084 |

The text's held-out bits per character are higher on the validation curves (about 3.3) than on
the test set (about 3.0): the two splits are different help topics, and the validation topics
are harder to predict. Both splits are the same for every optimizer.

## What the results say, and what they do not

**Where the differences are noise.** Three seeds, one of them chosen, are too few to estimate a
standard deviation well or to test a difference, so we read the seeds themselves. On the digits,
one test image is 0.28 points of accuracy, and the standard deviations over seeds are 0.2 to 1.3
points. The first fifteen lines, from 99.1% down to 98.1%, are about 4 images apart. Each line's
range of seeds overlaps the next line's; of their 105 pairs, only 6 have ranges that do not
overlap, by 1 or 2 images, and four of those six are SOAP's: its worst seed (98.9%) is above the
best seed of the cosine schedule, Adam, FusedAdam and the baseline. The table ranks them; the data
barely do. Momentum SGD (97.7%), Schedule-Free (97.3%), LAMB (96.9%), Lion (96.7%) and LARS (95.8%)
come last, but by their ranges only Lion and LARS are behind at this budget: the best seed of each
is no better than the worst seed of any of the first fifteen lines (97.2%), while momentum SGD,
Schedule-Free and LAMB each have a seed among them (98.6%, 98.1% and 98.3%).

On the text the seeds agree more closely (standard deviations of 0.01 to 0.04 bits, but for
LARS's 0.08 and Adagrad's 0.14), and groups stand apart. SOAP (2.67 bits) is alone: each of its
seeds is ahead of every seed of every other line. Muon (2.84) is next, each of its seeds ahead of
every seed of the lines below it. Shampoo, Schedule-Free, Lion and the Adam family (2.94 to 2.98)
and AdaBelief, NAdam and RAdam (3.00 to 3.01) come next, their seeds overlapping. LAMB, AdamW with
warm-up and cosine decay, Adafactor, momentum SGD, RMSProp, Adagrad and LARS (3.04 to 3.41) are
behind: each of their seeds is behind every seed of the other thirteen lines.

**Paired against the baseline.** The ranges above ignore that a seed fixes the initial weights
and the batches for every optimizer: seed 1 of Adam and seed 1 of `torch-adamw` start from the same
weights and see the same batches. So each line's seed can be set against the baseline's seed of the
same number, and the difference is the optimizer's (at its chosen rate) alone (`paired_differences`). On the digits a
difference is counted in test images (one is 0.28 points) and its mean in points of accuracy; on the
text, in bits per character, where a negative difference is better. "Seeds ahead" counts the seeds on
which the line beat the baseline; a tie (0 images) is not a win, and a sign on 0.000 says on which side
of the baseline a difference under 0.0005 bits fell.

| Digits | Seed 0 | Seed 1 | Seed 2 | Mean (points) | Seeds ahead |
|---|---|---|---|---|---|
| [soap](soap.html) | +4 | +2 | +4 | +0.93 | 3 of 3 |
| [nadam](nadam.html) | +3 | +4 | +2 | +0.83 | 3 of 3 |
| [adafactor](adafactor.html) | +4 | +1 | +4 | +0.83 | 3 of 3 |
| [adabelief](ada_belief.html) | +3 | +1 | +3 | +0.65 | 3 of 3 |
| [shampoo](shampoo.html) | +2 | 0 | +3 | +0.46 | 2 of 3 |
| [radam](radam.html) | +2 | 0 | +2 | +0.37 | 2 of 3 |
| [adamw-cosine](adam_warmup_cosine_decay.html) | +1 | 0 | +3 | +0.37 | 2 of 3 |
| [muon](muon.html) | +2 | -1 | +2 | +0.28 | 2 of 3 |
| [amsgrad](amsgrad.html) | +2 | -1 | +1 | +0.19 | 2 of 3 |
| [adagrad](adagrad.html) | +2 | -1 | +1 | +0.19 | 2 of 3 |
| [adamw](adamw.html) | +2 | 0 | 0 | +0.19 | 1 of 3 |
| [adam](adam.html) | +1 | 0 | 0 | +0.09 | 1 of 3 |
| [fused-adam](fused_adam.html) | +1 | 0 | 0 | +0.09 | 1 of 3 |
| [rmsprop](rmsprop.html) | +3 | -2 | -2 | -0.09 | 1 of 3 |
| [sgd-momentum](sgd.html) | -7 | -1 | +3 | -0.46 | 1 of 3 |
| [schedule-free](schedule_free.html) | -3 | -1 | -5 | -0.83 | 0 of 3 |
| [lamb](lars_lamb.html) | 0 | -9 | -4 | -1.20 | 0 of 3 |
| [lion](lion.html) | -5 | -6 | -5 | -1.48 | 0 of 3 |
| [lars](lars_lamb.html) | -10 | -6 | -9 | -2.31 | 0 of 3 |

| Text | Seed 0 | Seed 1 | Seed 2 | Mean (bits/char) | Seeds ahead |
|---|---|---|---|---|---|
| [soap](soap.html) | -0.256 | -0.362 | -0.305 | -0.308 | 3 of 3 |
| [muon](muon.html) | -0.145 | -0.196 | -0.069 | -0.137 | 3 of 3 |
| [shampoo](shampoo.html) | -0.064 | -0.041 | -0.004 | -0.036 | 3 of 3 |
| [schedule-free](schedule_free.html) | -0.013 | -0.049 | +0.033 | -0.010 | 2 of 3 |
| [lion](lion.html) | -0.019 | -0.053 | +0.044 | -0.009 | 2 of 3 |
| [adam](adam.html) | -0.007 | -0.003 | -0.001 | -0.004 | 3 of 3 |
| [fused-adam](fused_adam.html) | -0.007 | -0.003 | -0.001 | -0.004 | 3 of 3 |
| [amsgrad](amsgrad.html) | -0.007 | +0.000 | -0.001 | -0.003 | 2 of 3 |
| [adamw](adamw.html) | -0.000 | -0.001 | +0.000 | -0.000 | 2 of 3 |
| [adabelief](ada_belief.html) | +0.039 | -0.009 | +0.053 | +0.028 | 1 of 3 |
| [nadam](nadam.html) | -0.009 | +0.007 | +0.089 | +0.029 | 1 of 3 |
| [radam](radam.html) | +0.048 | -0.012 | +0.061 | +0.032 | 1 of 3 |
| [lamb](lars_lamb.html) | +0.065 | +0.045 | +0.091 | +0.067 | 0 of 3 |
| [adamw-cosine](adam_warmup_cosine_decay.html) | +0.078 | +0.040 | +0.163 | +0.094 | 0 of 3 |
| [adafactor](adafactor.html) | +0.126 | +0.038 | +0.154 | +0.106 | 0 of 3 |
| [sgd-momentum](sgd.html) | +0.135 | +0.087 | +0.138 | +0.120 | 0 of 3 |
| [rmsprop](rmsprop.html) | +0.266 | +0.185 | +0.210 | +0.220 | 0 of 3 |
| [adagrad](adagrad.html) | +0.141 | +0.245 | +0.448 | +0.278 | 0 of 3 |
| [lars](lars_lamb.html) | +0.392 | +0.488 | +0.407 | +0.429 | 0 of 3 |

That is 19 comparisons per task, 38 in all, and with 3 seeds each some "wins" are expected by chance.
If a line were the baseline's equal, each seed's difference would fall on either side with
probability $\frac{1}{2}$, and all three would fall ahead with probability $(\frac{1}{2})^3 =
\frac{1}{8}$: of 19 such lines, $19 / 8 \approx 2.4$ would win on every seed by chance, and the chance
that at least one does is $1 - (\frac{7}{8})^{19} \approx 0.92$. With 3 seeds no single comparison can
reach significance: the smallest one-sided p-value a sign test can give is $\frac{1}{8} = 0.125$,
above 0.05 before any correction, where Bonferroni's correction for 19 comparisons asks for
$0.05 / 19 \approx 0.003$. (The comparisons also share the baseline's seeds, so they are not
independent, and a seed 0 won its line's sweep, which favours the line and the baseline alike.)

Read that way, the digits have 4 lines ahead on every seed (SOAP, NAdam, Adafactor and AdaBelief),
where 2.4 are expected by chance, each by 1 to 4 images a seed, and 3 behind on every seed
(Schedule-Free by 1 to 5 images, Lion by 5 or 6 and LARS by 6 to 10; LAMB ties the baseline on
seed 0 and is 9 and 4 images behind on the others). The text has 5 lines ahead on every seed, SOAP,
Muon, Shampoo, Adam and FusedAdam, where Adam and FusedAdam are one result (their rows are the same
bytes, below) and their lead is under 0.01 bits, and 7 behind on every seed. What stands out is not the count but the size. SOAP's smallest lead, 0.256 bits, is
larger than the spread of the baseline's own three seeds, 0.072 bits; Muon's mean lead, 0.137
bits, is larger too, though its smallest, 0.069, is not; Shampoo's mean lead, 0.036 bits, is half
that spread. The smallest deficits of LARS (0.392), RMSProp (0.185), Adagrad (0.141) and momentum
SGD (0.087) are larger than the spread, and those of LAMB (0.045), Adafactor (0.038) and the cosine
schedule (0.040) are not.

**Implementations that should agree do.** FusedAdam's 434 rows are the same bytes as Adam's:
its flat-buffer update is Adam's to the last bit here. The `adamw` line (the chapter's AdamW with
its defaults) and `torch-adamw` are not quite one algorithm: the chapter's adds $\epsilon$ to
$\sqrt{v_t}$ before the bias correction, PyTorch's to $\sqrt{\hat v_t}$, and the chapter's default
$\epsilon$ is $10^{-16}$ against PyTorch's $10^{-8}$. Their means agree to the table's last digit
on the text and in the digits' test loss; their digits accuracies, 98.3% and 98.1%, part by two
test images on seed 0, within seed noise.

**Sensitivity to the learning rate.** The Adam family is forgiving: on both tasks its best rate
is $3 \cdot 10^{-3}$, and a factor of 3 either way costs little (on the digits the validation
loss is 0.105, 0.086 and 0.103 at $10^{-3}$, $3 \cdot 10^{-3}$ and $10^{-2}$). Nothing in the
Adam family diverged anywhere in the sweep. Momentum SGD shows the familiar cliff: on the digits
$0.1$ is its best rate and at $0.3$ it ends at chance level; on the text it is nearly flat from
$0.01$ to $0.3$ and diverges (NaN) at $1$. RAdam and AdaBelief (which rectifies by default here)
chose the top of their sweep on both tasks. That is what their rectification predicts for runs
this short: with $\beta_2 = 0.999$ the factor $r_t$ is 0.31 at step 200 and 0.43 at step 400, and
0.20 and 0.29 on average over the text's and the digits' runs, so their step is a fraction of
the nominal rate throughout, and the sweep, centred on Adam's rate, does not reach their best one.
NAdam, too, chose the top of its sweep on the digits, $2 \cdot 10^{-2}$, ten times its usual
rate, and its usual rate on the text. Lion's best rates, $3 \cdot 10^{-4}$ on the digits and
$10^{-3}$ on the text, are 10 and 3 times below Adam's, just as its paper advises. Adagrad's were
$3 \cdot 10^{-2}$ on the digits and its usual $10^{-2}$ on the text; Schedule-Free's was its usual
$2.5 \cdot 10^{-3}$ on both tasks, and the rate three times higher was worse on both. AdamW with the
cosine schedule chose the top of its sweep, $10^{-2}$, on the digits, and the constant AdamW's
$3 \cdot 10^{-3}$ on the text.

LARS bounds each adapted layer's step by its trust ratio, and the sweep shows it: on the digits,
at $0.3$ and $1$, where momentum SGD ended at chance level, LARS ended at validation losses of
0.353 and 0.367, and on the text nothing diverged at $1$, where momentum SGD did. It chose its usual
$0.1$ on the digits and $0.3$ on the text, where $1$ was level with it (2.520 and 2.521 nats). LAMB
is less forgiving: it chose its usual $10^{-2}$ on both tasks, and three times that ended at chance
level on the digits (2.331 against 0.090), while on the text $10^{-1}$ ended at a loss of 98 nats,
diverged in all but name. Shampoo chose $9.5 \cdot 10^{-4}$, a third of its usual rate, on the
digits and its usual $3 \cdot 10^{-3}$ on the text; SOAP chose $9.5 \cdot 10^{-4}$ on the digits and $9.5 \cdot 10^{-3}$, three times its usual
rate, on the text. None of the four chose an end of its sweep.

**Compared with the papers' claims.** Two small models trained for minutes cannot confirm or
refute claims made at scale; what they can show is where a claim's conditions hold.

* *Adagrad* (Duchi et al.) adapts each coordinate's step to its gradients' history, with regret
  bounds for convex online learning, aimed at sparse features; neither task is that. Its sum of
  squared gradients only grows, so its steps only shrink. It is within the digits' noise (98.3%) and
  next to last on the text, ahead only of LARS, 0.279 bits behind AdamW, with the widest spread of
  seeds there.
* *AMSGrad* (Reddi et al.) fixes a convergence failure of Adam; nothing here fails, and AMSGrad
  stays within seed noise of Adam: seed for seed, their digits test losses differ by up to 0.004,
  while Adam's own seeds range from 0.046 to 0.070.
* *AdamW* (Loshchilov & Hutter) claims better generalization from decoupled decay. With
  $\lambda = 0.01$ and a few hundred steps the weights shrink by about 1% in all, so AdamW is
  Adam here; this does not test the claim.
* *RAdam* (Liu et al.) removes the need for warm-up. These pre-norm models train without warm-up
  under plain Adam at every rate of the sweep, so there is no instability for RAdam to remove,
  and its rectification only slows the start.
* *AdaBelief* (Zhuang et al.) claims Adam's speed with better generalization; here, with the
  same rectification, it behaves like RAdam.
* *NAdam* (Dozat) claims faster convergence than Adam: it has the second-best digits mean, after
  SOAP's, at the top of its sweep, and a text result behind Adam's, both within the noise.
* *Lion* (Chen et al.) matches AdamW on the text at a third of its rate, as its paper reports for
  language models, but falls behind on the digits' CNN with batches of 64. Its paper notes that its
  advantage grows with the batch size and may vanish at small batches.
* *Adafactor* (Shazeer & Stern) aims at Adam's results with far less memory; without momentum
  (its default $\beta_1 = 0$) and without its relative step size and warm-up, it is 0.11 bits
  behind Adam on the text, and level on the digits at the top of its sweep. A fair test of the
  paper's setting would sweep its own schedule.
* *Momentum SGD and RMSProp* are within the digits' noise (97.7% and 98.1%, momentum SGD's seeds
  from 96.4% to 98.6%) and fall behind on the transformer, in line with the common finding that
  adaptive methods matter for attention models ([Zhang et al., 2020](https://arxiv.org/abs/1912.03194)).
* *Muon* (Jordan et al.) claims faster transformer training, and the text gives it the second
  clearest win of the table, after SOAP's: 0.133 bits ahead of Adam, and each of its seeds ahead of
  every seed of every line but SOAP. On the CNN it says little:
  the chapter's Muon takes matrices only, so it drives one layer (`fc1`), and the convolutions and
  read-out go to its AdamW partner, whose rate follows Muon's (at Muon's chosen $0.02$, its usual
  rate, AdamW runs at $10^{-3}$); it is within the digits' noise (98.4%).
* *Schedule-Free AdamW* (Defazio et al.) claims to match or beat a tuned cosine schedule without
  knowing the run's length. Against `adamw-cosine`, with the same warm-up and each at its best
  swept rate, it is 0.103 bits ahead on the text, on every seed, and 1.2 points behind on the
  digits, on every seed (by 1 to 8 images): the claim holds on one task of two. It is also level
  with the constant-rate AdamW on the text (0.009 bits ahead) and behind it on every seed on the
  digits.
* *AdamW with warm-up and cosine decay* (Loshchilov & Hutter; Goyal et al.), the usual default, is
  level with the constant-rate AdamW on the digits (98.5% against 98.3%, within seed noise) and
  0.094 bits behind it on the text, on every seed. Its rates add up to half of the constant
  rate's over a run (its page's exercise), and the text's run is half an epoch, whose validation
  loss under the constant rate is still falling at the last evaluation on every seed; the sweep
  did not make up for it with a higher peak (it chose $3 \cdot 10^{-3}$ on the text). A run this
  short shows the cost of decaying while the loss still falls, not what a decay is for.
* *LARS* (You, Gitman & Ginsburg) claims that a rate per layer lets AlexNet train with batches of
  8K and ResNet-50 with batches of 32K without losing accuracy. Our batches are 64 images and 16
  windows, so that claim is not tested here; what the experiment can show is what the trust ratio
  costs, or buys, where one rate for all layers already works. It costs: LARS is last on both
  tasks, behind momentum SGD, its own update without the ratio, on every seed (by 1.9 points on the
  digits and 0.309 bits on the text). It buys the stability described above: no rate of its sweep
  diverged. Its trust coefficient, $10^{-2}$, is ten times the paper's, to suit a rate of $0.1$ (its
  registry entry says why).
* *LAMB* (You et al.) claims to train BERT with batches of 32K and more without losing accuracy,
  and ResNet-50 better than earlier large-batch methods; at our batch sizes that claim is not
  tested either. The first version of its abstract also called LAMB a general optimizer that works
  for small batches as well as large ones, and that is tested here, at one small scale: LAMB is
  behind Adam, its own update without the ratio, on every seed of both tasks, by 1.3 points on the
  digits and 0.071 bits on the text. Its deficit to the baseline on the text, 0.045 bits on its
  closest seed, is within the spread of the baseline's own seeds, so on the transformer it is close;
  but with its rate tuned like every other line's, it did not match Adam at these batches. The ICLR
  version's abstract adds that LARS performs poorly on attention models such as BERT; LARS is last on
  the transformer here, but it is last on the CNN too.
* *Shampoo* (Gupta et al.) claims to converge considerably faster than the common optimizers. Run
  as Distributed Shampoo runs it, with Adam grafting (so its step sizes are Adam's and only its
  directions Shampoo's), it is ahead of the baseline on every seed of the text, by 0.036 bits on
  average, half the spread of the baseline's seeds (by 0.004 on its closest seed), and within the
  noise on the digits (98.6%).
* *SOAP* (Vyas et al.) claims, for language models of 360M and 660M parameters trained with large
  batches, over 40% fewer steps and over 35% less wall-clock time than AdamW, and about 20% fewer of
  both than Shampoo. The text is a language model too, of 116,705 parameters on batches of 16
  windows, and SOAP is first there by a wide margin: 2.669 bits, 0.307 ahead of the chapter's AdamW
  and 0.272 ahead of Shampoo, on every seed, each of its seeds ahead of every seed of every other
  line. The direction of the claim holds here; its size, counted in steps to a given loss, is not
  measured (the experiment compares losses after a fixed number of steps), nor is the wall-clock
  time (the runs shared a loaded machine). Two cautions. SOAP runs with its authors'
  $\beta_1 = \beta_2 = 0.95$, AdamW with $0.9$ and $0.999$, and only the rate is tuned, so the
  experiment cannot say how much of the lead is the eigenbasis and how much a second moment that
  forgets faster, over a run of 200 steps. And one result this far ahead, on one small task, is to
  be checked at a larger scale, and against Adam with the same betas, before it is believed. On
  the digits SOAP has the best mean (99.1%), within the noise, 1 or 2 images a seed ahead of
  Shampoo.

Two tasks, a few hundred steps, small batches, one schedule, three seeds: the ranking would
likely change with longer training, other schedules, larger batches or larger models, and the two
results that stand out of the noise here, SOAP and Muon on the text, deserve checking at a larger
scale before they are believed.

Eight of the 40 rows chose the top rate of their sweep (↑): RAdam and AdaBelief on both tasks,
NAdam, Adafactor and AdamW with the cosine schedule on the digits, and Lion on the text. Their
sweeps did not bracket the best rate, and they were not widened, so those rows are lower bounds:
they say how well the line does at the best rate it was offered, not at its best rate. A wider
sweep could only choose a rate with a lower validation loss, which would most likely, though not
surely, also improve the test metric.

## Where the experiment writes

Everything goes into the folder given by `--out` (default `runs/optimizers-experiment/`):

* `results.csv`, one row per logged step of every run, with the columns
  `optimizer, task, lr, seed, step, split, loss, metric`; `split` is `train` (the mean over the
  steps since the last row), `val` (also at step 0) or `test` (once, last);
* `protocol.json`, the protocol the runs follow: a folder holds one protocol, so a `--quick`
  folder given to a full run is refused rather than mixed into its table;
* `environment.jsonl`, one line per session that ran the protocol: `sys.version`, the machine,
  the device and the text corpus's length and SHA-256 (`record_environment`);
* `checkpoints/`, one file per unfinished run, removed when the run is in the CSV;
* the three figures, drawn again from the CSV by `--plot-only`;
* `labml/logs/<task>-<optimizer>/<run uuid>/`, labml's record of each run (`run.yaml`,
  `configs.yaml`, the tracked values in `log.jsonl`), when labml is installed.

labml also keeps settings in the home folder, `~/.labml/` (`configs.yaml` with an id for the
computer, `projects/` listing the lab folders it has seen). It needs no server and no `.labml.yaml`;
it prints a notice that it found no `.labml.yaml`, and one that the lab folder is not a git
repository (it would otherwise store the repository's diff with every run). `--no-labml` turns it
off; without labml installed, the experiment runs the same and prints one line per run.

## Interrupted runs and reproducible numbers

A run is checkpointed at every validation step: weights, optimizer state, the state of its batch
generator, its rows so far and the running sums of the training rows. A finished run's rows are
appended to the CSV in one write, and only then is its checkpoint removed. Running the same
command again therefore reads the finished runs back, continues the unfinished one from its
checkpoint, and repairs a CSV whose last write was cut short. The runs go optimizer by optimizer,
so a line added with the next position runs on top of a finished experiment made on the same
CPU and build. In each case the
CSV ends up the same, byte for byte, as that of one uninterrupted run: the tests check it.

Byte-identical numbers need the same arithmetic in the same order. On a CPU, PyTorch splits a
reduction among its threads, and the order of the additions with it, so the runs use one thread
(`--threads`, default 1); a different CPU, or another PyTorch build, may round differently. The
committed results are an example of both. The earlier ones, made on 2026-11-29 on an AMD EPYC, and
runs of the same code on the Intel Xeon above parted in the sixth significant digit, so three lines
added then could not be appended to them, and the whole table was run again from nothing on the
one CPU. The four lines added since, LARS, LAMB, Shampoo and SOAP, were appended to that table on
the same CPU and build: the CSV's first 6,920 lines (its header and the first sixteen lines' 6,919
rows) are the bytes they were before, and the new lines' rows follow them in the order of their
positions. Shampoo's and SOAP's 28 runs were made twice, in two folders, and wrote the same bytes
both times. On a
GPU, `--device cuda` asks for deterministic kernels, but some have no deterministic version, so
only the CPU's CSV is promised to repeat.
"""

import argparse
import contextlib
import csv
import dataclasses
import functools
import hashlib
import importlib
import io
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from labml_nn.optimizers.experiment_data import (
    DIGITS_TEST,
    VOCAB_SIZE,
    Split,
    eval_starts,
    load_digits_splits,
    load_text_splits,
    text_windows,
)
from labml_nn.optimizers.experiment_models import CharTransformer, DigitsCNN
from labml_nn.optimizers.registry import optimizer_entries


# ## The optimizers
#
# One line per optimizer: a name, the class (as `module:Class`, imported when an experiment starts),
# the learning rate it is usually run with, and the arguments that are not the class's defaults.
# The lines come from the chapter's [registry](registry.html): every page whose entry has an
# `ExperimentLine` is run, in the order of the lines' positions, after `torch.optim.AdamW`'s baseline.
# So a page added to the chapter joins the experiment by its entry alone, and each page says, beside its
# entry, why its rate and arguments are what they are, or why it has no line.
@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    target: str
    default_lr: float
    kwargs: dict[str, Any] = field(default_factory=dict)
    # For an optimizer meant for some parameters only (Muon): `model -> (its parameters, the rest)`;
    # the rest go to the chapter's AdamW.
    split: Optional[Callable[[nn.Module], tuple[list[nn.Parameter], list[nn.Parameter]]]] = None
    # For an optimizer that schedules its own rate: its arguments that depend on the run's steps
    schedule: Optional[Callable[[int], Mapping[str, Any]]] = None

    @property
    def module(self) -> str:
        return self.target.split(":")[0]

    def build(self, model: nn.Module, lr: float, steps: int) -> Any:
        module, name = self.target.split(":")
        cls = getattr(importlib.import_module(module), name)
        kwargs = {**self.kwargs, **(self.schedule(steps) if self.schedule is not None else {})}
        if self.split is None:
            return cls(model.parameters(), lr=lr, **kwargs)
        from labml_nn.optimizers.adamw import AdamW

        mine, rest = self.split(model)
        # The partner's rate moves with the swept one, in the ratio of their usual rates ($10^{-3}$
        # for AdamW), so the sweep still turns a single knob and neither half is left at a rate
        # tuned for the other.
        return OptimizerPair(cls(mine, lr=lr, **kwargs), AdamW(rest, lr=lr * 1e-3 / self.default_lr))


class OptimizerPair:
    r"""
    ### Two optimizers over disjoint parameters, driven as one

    The training loop only calls `zero_grad`, `step`, `state_dict` and `load_state_dict`.
    """

    def __init__(self, first: torch.optim.Optimizer, second: torch.optim.Optimizer):
        self.optimizers = (first, second)

    def zero_grad(self) -> None:
        for opt in self.optimizers:
            opt.zero_grad()

    def step(self) -> None:
        for opt in self.optimizers:
            opt.step()

    def state_dict(self) -> list[dict[str, Any]]:
        return [opt.state_dict() for opt in self.optimizers]

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        for opt, state in zip(self.optimizers, states):
            opt.load_state_dict(state)


def muon_split(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    r"""
    ### Muon's parameters: the hidden layers' matrices

    The chapter's Muon takes 2-D parameters only, as `torch.optim.Muon` does, and, as in Jordan
    et al., the embeddings and the read-out layer go to AdamW although they are matrices. So on
    the CNN Muon drives `fc1` only: the convolution kernels are 4-D (Jordan et al. flatten them
    to $[c_\text{out}, c_\text{in} k^2]$; this class does not), and on the transformer it
    drives the attention and MLP matrices.
    """
    from labml_nn.optimizers.muon import split_params

    names = [n for n, _ in model.named_parameters()]
    return split_params(model, exclude=[n for n in names if n.startswith(("tok.", "pos.", "head.", "fc2."))])


# PyTorch's AdamW, with its defaults, is the baseline every other line is read against.
BASELINE = OptimizerSpec("torch-adamw", "torch.optim:AdamW", 1e-3)


@functools.cache
def optimizer_specs() -> tuple[OptimizerSpec, ...]:
    r"""
    ### The baseline, then the registry's experiment lines in the order of their positions

    Found when first asked for, not on import: finding them imports every page of the chapter.
    """
    lines = [(entry.experiment, entry) for entry in optimizer_entries() if entry.experiment is not None]
    lines.sort(key=lambda line_entry: line_entry[0].position)
    return (BASELINE,) + tuple(
        OptimizerSpec(
            line.label,
            f"{entry.cls.__module__}:{entry.cls.__name__}",
            line.lr,
            dict(line.kwargs),
            # An optimizer of matrices gets the hidden layers' (see `muon_split`), AdamW the rest.
            split=muon_split if entry.matrices_only else None,
            schedule=line.schedule,
        )
        for line, entry in lines
    )


# ## The tasks
#
# A task knows how to load its data, build its model, draw a training batch and score a model.
# The loss is the mean cross-entropy in nats; the metric is the accuracy for the digits and the
# bits per character, $\text{loss} / \ln 2$, for the text.
@dataclass(frozen=True)
class Budget:
    r"""
    ### How long a run of a task trains
    """

    steps: int
    batch_size: int
    # Steps between two training-loss rows (the mean over those steps)
    log_every: int
    # Steps between two validation rows; a run is also checkpointed there
    eval_every: int
    # The text model's context length, and how many held-out windows of it are scored
    context: int = 0
    eval_windows: int = 0


@dataclass(frozen=True)
class Task:
    name: str
    metric: str
    # Whether a larger metric is better (accuracy) or a smaller one (bits per character)
    higher_is_better: bool
    load: Callable[[], dict[str, Split]]
    make_model: Callable[[Budget], nn.Module]
    # `(split, starts or indices, budget)` $\to$ `(inputs, targets)`
    batch: Callable[[Split, torch.Tensor, Budget], tuple[torch.Tensor, torch.Tensor]]
    # The number of positions a batch index is drawn from
    n_items: Callable[[Split, Budget], int]
    # The fixed indices a held-out split is scored on
    eval_items: Callable[[Split, Budget], torch.Tensor]


def digits_batch(split: Split, idx: torch.Tensor, budget: Budget) -> tuple[torch.Tensor, torch.Tensor]:
    idx = idx.to(split.x.device)
    return split.x[idx], split.y[idx]


def text_batch(split: Split, starts: torch.Tensor, budget: Budget) -> tuple[torch.Tensor, torch.Tensor]:
    return text_windows(split.x, starts, budget.context)


TASKS: dict[str, Task] = {
    "digits": Task(
        "digits",
        "accuracy",
        True,
        load_digits_splits,
        lambda b: DigitsCNN(),
        digits_batch,
        lambda s, b: len(s.y),
        lambda s, b: torch.arange(len(s.y)),
    ),
    "text": Task(
        "text",
        "bits/char",
        False,
        load_text_splits,
        lambda b: CharTransformer(VOCAB_SIZE, b.context),
        text_batch,
        lambda s, b: len(s.x) - b.context - 1,
        lambda s, b: eval_starts(len(s.x), b.context, b.eval_windows),
    ),
}


def loss_and_metric(task: Task, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, float]:
    r"""
    ### Mean loss of a batch, and its metric
    """
    # `[B, classes]` for the digits, `[B, T, vocab]` for text, flattened to `[N, classes]`
    logits = model(x)
    logits = logits.reshape(-1, logits.shape[-1])
    loss = F.cross_entropy(logits, y.reshape(-1))
    if task.higher_is_better:
        metric = (logits.argmax(-1) == y.reshape(-1)).float().mean().item()
    else:
        metric = loss.item() / math.log(2)
    return loss, metric


@torch.no_grad()
def evaluate(task: Task, model: nn.Module, split: Split, budget: Budget, chunk: int = 512) -> tuple[float, float]:
    r"""
    ### Score a model on a held-out split

    The split's fixed items are scored in chunks, and the chunks' sums are added in order, so
    the score does not depend on the batch size used for training.
    """
    model.eval()
    items = task.eval_items(split, budget)
    total_loss, total_metric, n = 0.0, 0.0, 0
    for i in range(0, len(items), chunk):
        x, y = task.batch(split, items[i : i + chunk], budget)
        loss, metric = loss_and_metric(task, model, x, y)
        total_loss += loss.item() * len(x)
        total_metric += metric * len(x)
        n += len(x)
    model.train()
    return total_loss / n, total_metric / n


# ## The protocol
#
# Every optimizer gets the same tuning effort, in the spirit of AlgoPerf (Dahl et al., 2023):
# the same learning-rate multipliers around its own usual rate, the rate with the lowest final
# validation loss, then that rate with more seeds. Nothing else is tuned: betas, $\epsilon$ and
# weight decay stay at each class's defaults, and the rate is constant, without warm-up or decay.
@dataclass(frozen=True)
class Protocol:
    lr_multipliers: tuple[float, ...]
    seeds: tuple[int, ...]
    budgets: dict[str, Budget]


# Five rates, half a decade apart: $\alpha_0 \cdot 10^{k/2}$ for $k = -2 \dots 2$.
FULL = Protocol(
    lr_multipliers=tuple(10 ** (k / 2) for k in range(-2, 3)),
    seeds=(0, 1, 2),
    budgets={
        "digits": Budget(steps=400, batch_size=64, log_every=20, eval_every=40),
        "text": Budget(steps=200, batch_size=16, log_every=10, eval_every=25, context=64, eval_windows=96),
    },
)

# `--quick`: three rates a decade apart in all, two seeds, short runs.
QUICK = Protocol(
    lr_multipliers=tuple(10 ** (k / 2) for k in range(-1, 2)),
    seeds=(0, 1),
    budgets={
        "digits": Budget(steps=60, batch_size=32, log_every=10, eval_every=20),
        "text": Budget(steps=40, batch_size=8, log_every=10, eval_every=20, context=32, eval_windows=16),
    },
)


def round_lr(lr: float) -> float:
    r"""
    ### The rate as the CSV writes it

    A run uses the rate rounded to three significant digits, so the number in the CSV is
    exactly the number that trained.
    """
    return float(f"{lr:.3g}")


# ## The results file
#
# One row per logged step of a run. `split` is `train` (the mean over the steps since the last
# row), `val` (the whole validation set, also at step 0) or `test` (once, at the end).
FIELDS = ("optimizer", "task", "lr", "seed", "step", "split", "loss", "metric")
Row = tuple[str, str, float, int, int, str, float, float]
RunKey = tuple[str, str, float, int]


def format_row(row: Row) -> list[str]:
    optimizer, task, lr, seed, step, split, loss, metric = row
    return [optimizer, task, f"{lr:.3g}", str(seed), str(step), split, f"{loss:.6g}", f"{metric:.6g}"]


def parse_row(record: dict[str, str]) -> Row:
    return (
        record["optimizer"],
        record["task"],
        float(record["lr"]),
        int(record["seed"]),
        int(record["step"]),
        record["split"],
        float(record["loss"]),
        float(record["metric"]),
    )


def load_results(path: Path) -> dict[RunKey, list[Row]]:
    r"""
    ### Read the finished runs, repairing a torn end

    A run's rows are appended in one write after it finishes, and its last row is its `test` row.
    A kill during that write can leave a partial run at the end of the file; everything after
    the last `test` row is cut off, and that run trains again from its checkpoint.
    """
    if not path.exists():
        return {}
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    header = ",".join(FIELDS).encode() + b"\n"
    if not lines or lines[0] != header:
        if data and not header.startswith(data):
            raise ValueError(f"{path}: not a results file of this experiment (header {lines[0][:80]!r})")
        path.write_bytes(b"")
        return {}
    good_end, offset = len(header), len(header)
    runs: dict[RunKey, list[Row]] = {}
    pending: list[Row] = []
    for line in lines[1:]:
        offset += len(line)
        if not line.endswith(b"\n"):
            break
        row = parse_row(next(csv.DictReader(io.StringIO(line.decode()), fieldnames=FIELDS)))
        pending.append(row)
        if row[5] == "test":
            runs[(row[0], row[1], row[2], row[3])] = pending
            pending, good_end = [], offset
    if good_end < len(data):
        with open(path, "r+b") as f:
            f.truncate(good_end)
    return runs


def append_rows(path: Path, rows: list[Row]) -> None:
    r"""
    ### Append a finished run's rows, in one write, flushed to disk
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not path.exists() or path.stat().st_size == 0:
        writer.writerow(FIELDS)
    writer.writerows(format_row(row) for row in rows)
    with open(path, "a", newline="") as f:
        f.write(buffer.getvalue())
        f.flush()
        os.fsync(f.fileno())


def save_atomically(obj: Any, path: Path) -> None:
    r"""
    ### Write a checkpoint so that a kill leaves the old one or the new one, never half of one
    """
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


# ## Tracking with labml
#
# [labml](https://github.com/labmlai/labml) records each run as an experiment: its
# configuration, its losses and metrics per step, and a progress line in the terminal. It runs
# offline with the `screen` and `file` writers. The experiment's own results never depend on it:
# when labml is not installed, `PlainTracking` does nothing and the run prints one line at its end.
class PlainTracking:
    @contextlib.contextmanager
    def run(self, name: str, configs: dict[str, Any]) -> Iterator[None]:
        yield

    def loop(self, steps: range) -> Iterable[int]:
        return steps

    def save(self, step: int, values: dict[str, float]) -> None:
        pass


class LabmlTracking:
    r"""
    ### labml's experiment, tracker and monit

    labml writes in two places:

    * its **run folder**, `<out>/labml/logs/<experiment name>/<run uuid>/` (`run.yaml`,
      `configs.yaml`, the tracked values in `log.jsonl`); the lab's root is set to `<out>/labml`
      here, so nothing lands beside the source, and no `.labml.yaml` is needed (labml prints a
      notice that it found none, and one that `<out>/labml` is not a git repository);
    * its **home-folder settings**, `~/.labml/` (`configs.yaml` with a computer id, and
      `projects/` listing the lab roots it has seen).
    """

    def __init__(self, root: Path):
        from labml import experiment, lab, monit, tracker

        self.experiment, self.monit, self.tracker = experiment, monit, tracker
        # labml asks git about the lab's root, which must therefore exist.
        root.mkdir(parents=True, exist_ok=True)
        lab.configure({"path": str(root.resolve())})

    @contextlib.contextmanager
    def run(self, name: str, configs: dict[str, Any]) -> Iterator[None]:
        self.experiment.create(name=name, writers={"screen", "file"})
        self.experiment.configs(configs)
        with self.experiment.start():
            yield
        # labml's progress line ends without a newline.
        self.tracker.new_line()

    def loop(self, steps: range) -> Iterable[int]:
        return self.monit.loop(steps)

    def save(self, step: int, values: dict[str, float]) -> None:
        self.tracker.save(step, values)


def make_tracking(use_labml: bool, root: Path):
    r"""
    ### labml if asked for and installed, plain otherwise
    """
    if use_labml:
        try:
            return LabmlTracking(root)
        except ImportError:
            print("labml is not installed (pip install -e '.[experiments]'); running without tracking")
    return PlainTracking()


# ## One run
class Interrupted(Exception):
    r"""
    Raised by the `stop_after_steps` hook, which stands for a kill at an arbitrary step.
    """


@dataclass
class Session:
    r"""
    ### What this process has done, for the `stop_after_steps` hook
    """

    stop_after_steps: Optional[int] = None
    steps: int = 0

    def count_step(self) -> None:
        self.steps += 1
        if self.stop_after_steps is not None and self.steps >= self.stop_after_steps:
            raise Interrupted(f"stopped after {self.steps} steps")


def checkpoint_path(folder: Path, key: RunKey) -> Path:
    optimizer, task, lr, seed = key
    return folder / f"{task}-{optimizer}-lr{lr:.3g}-seed{seed}.pt"


def train_run(
    task: Task,
    data: dict[str, Split],
    spec: OptimizerSpec,
    lr: float,
    seed: int,
    budget: Budget,
    device: torch.device,
    checkpoint: Path,
    tracking,
    session: Session,
) -> list[Row]:
    r"""
    ### Train one optimizer at one rate and seed

    The seed fixes the initial weights (through the global generator, which only model
    construction uses) and the batches (through a private generator on the CPU, so the batches
    are the same on every device). Every `eval_every` steps the run is checkpointed: weights,
    optimizer state, the batch generator's state, the rows so far and the running training
    sums, which is everything the rest of the run depends on. A resumed run therefore writes the
    same bytes as one that was never stopped.
    """
    torch.manual_seed(seed)
    model = task.make_model(budget).to(device)
    optimizer = spec.build(model, lr, budget.steps)
    generator = torch.Generator().manual_seed(seed)
    n_items = task.n_items(data["train"], budget)
    prefix = (spec.name, task.name, lr, seed)

    start, rows, sums = 0, [], [0.0, 0.0, 0]
    if checkpoint.exists():
        # Our own file, holding Python lists beside the tensors, hence not `weights_only`.
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        # The batch generator lives on the CPU whatever `map_location` did to its state.
        generator.set_state(state["generator"].cpu())
        start, rows, sums = state["step"], [tuple(r) for r in state["rows"]], state["sums"]
    else:
        rows.append(prefix + (0, "val") + evaluate(task, model, data["val"], budget))

    configs = dict(
        task=task.name,
        metric=task.metric,
        optimizer=spec.name,
        lr=lr,
        seed=seed,
        steps=budget.steps,
        batch_size=budget.batch_size,
        resumed_at=start,
    )
    with tracking.run(f"{task.name}-{spec.name}", configs):
        for step in tracking.loop(range(start + 1, budget.steps + 1)):
            idx = torch.randint(n_items, (budget.batch_size,), generator=generator)
            x, y = task.batch(data["train"], idx, budget)
            loss, metric = loss_and_metric(task, model, x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            # The loss is that of the weights before this step's update, the ones the gradient came from.
            sums = [sums[0] + loss.item(), sums[1] + metric, sums[2] + 1]
            is_eval = step % budget.eval_every == 0 or step == budget.steps
            tracked = {}
            if step % budget.log_every == 0:
                rows.append(prefix + (step, "train", sums[0] / sums[2], sums[1] / sums[2]))
                tracked.update({"loss.train": rows[-1][6], "metric.train": rows[-1][7]})
                sums = [0.0, 0.0, 0]
            if is_eval:
                rows.append(prefix + (step, "val") + evaluated(task, model, optimizer, data["val"], budget))
                tracked.update({"loss.val": rows[-1][6], "metric.val": rows[-1][7]})
            # One save per step, so labml prints one line for it. The names are the CSV's columns
            # (`metric` is the task's: the configs say which), because labml's tracker keeps the
            # names of earlier runs in the process and would print empty columns for a text run
            # after a digits one (and its `tracker.reset()` works once per process, in labml 0.5.3).
            if tracked:
                tracking.save(step, tracked)
            # A diverged run stops here: its last validation loss is `nan`, which ranks it last.
            if is_eval and not math.isfinite(rows[-1][6]):
                break
            if is_eval and step < budget.steps:
                save_atomically(
                    dict(
                        model=model.state_dict(),
                        optimizer=optimizer.state_dict(),
                        generator=generator.get_state(),
                        step=step,
                        rows=rows,
                        sums=sums,
                    ),
                    checkpoint,
                )
            session.count_step()
    rows.append(prefix + (rows[-1][4], "test") + evaluated(task, model, optimizer, data["test"], budget))
    return rows


def evaluated(task: Task, model: nn.Module, optimizer: Any, split: Split, budget: Budget) -> tuple[float, float]:
    r"""
    ### `evaluate` at the point the optimizer means to be kept

    [Schedule-Free AdamW](schedule_free.html) takes its gradients at $y_t$ but keeps the average $x_t$:
    `eval()` puts $x_t$ in the parameters and `train()` puts $y_t$ back. Every other optimizer's
    parameters are the point to evaluate, and it has no such methods (`OptimizerPair` has neither).
    """
    switches = callable(getattr(optimizer, "eval", None)) and callable(getattr(optimizer, "train", None))
    if switches:
        optimizer.eval()
    try:
        return evaluate(task, model, split, budget)
    finally:
        if switches:
            optimizer.train()


# ## The whole protocol
def final_val_loss(rows: list[Row]) -> float:
    loss = [r for r in rows if r[5] == "val"][-1][6]
    return loss if math.isfinite(loss) else math.inf


def select_lr(sweep: list[tuple[float, list[Row]]]) -> float:
    r"""
    ### The rate with the lowest final validation loss; a tie goes to the smaller rate
    """
    return min(sweep, key=lambda lr_rows: (final_val_loss(lr_rows[1]), lr_rows[0]))[0]


def check_protocol(path: Path, protocol: Protocol) -> None:
    r"""
    ### One folder, one protocol

    A run is found again by its optimizer, task, rate and seed; the budget is not in that key.
    So the folder records its protocol, and a folder that holds another protocol's runs (a
    `--quick` folder given to a full run) is refused rather than mixed into the table.
    """
    text = json.dumps(dataclasses.asdict(protocol), indent=1, sort_keys=True) + "\n"
    if path.exists() and path.read_text() != text:
        raise ValueError(f"{path.parent}: holds the runs of another protocol (see {path.name}); choose another --out")
    path.write_text(text)


def record_environment(path: Path, device: str) -> None:
    r"""
    ### Append what the runs depend on besides the code: Python, the corpus, the machine

    One JSON line per session that runs the protocol, so a folder continued elsewhere says so. The
    text is the help text of the Python that runs (`pydoc_data.topics`), which changes from one
    CPython release to the next; `sys.version` and the corpus's length and SHA-256 say which it was.
    The committed results predate this file and have none.
    """
    from labml_nn.optimizers.experiment_data import load_text

    text = load_text()
    record = dict(
        python=sys.version,
        machine=machine(torch.get_num_threads()),
        device=device,
        text_corpus=dict(chars=len(text), sha256=hashlib.sha256(text.encode()).hexdigest()),
    )
    with open(path, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def run_experiment(
    out: Path,
    protocol: Protocol = FULL,
    tasks: Sequence[str] = tuple(TASKS),
    optimizers: Optional[Sequence[OptimizerSpec]] = None,
    device: str = "cpu",
    tracking=None,
    stop_after_steps: Optional[int] = None,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> dict[RunKey, list[Row]]:
    r"""
    ### Run, or continue, the protocol in `out`

    Runs go in a fixed order: for each optimizer and task, the sweep with the first seed, then
    the chosen rate with the other seeds. A run already in `out/results.csv` is read back, not
    trained again; a run with a checkpoint continues from it. So an interrupted experiment is
    finished by running the same command again, and its CSV is the same, byte for byte.

    `threads` is PyTorch's CPU thread count for the runs, restored afterwards. A CPU reduction is
    split among the threads, and the order of its float additions with it, so the CSV's bytes are
    reproducible for a given thread count; one thread also keeps the runs from competing with
    each other for the cores, which tiny models lose more time to than they gain.
    """
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return run_protocol(out, protocol, tasks, optimizers, device, tracking, stop_after_steps, log)
    finally:
        torch.set_num_threads(previous_threads)


def run_protocol(
    out: Path,
    protocol: Protocol,
    tasks: Sequence[str],
    optimizers: Optional[Sequence[OptimizerSpec]],
    device: str,
    tracking,
    stop_after_steps: Optional[int],
    log: Callable[[str], None],
) -> dict[RunKey, list[Row]]:
    optimizers = list(optimizer_specs()) if optimizers is None else list(optimizers)
    tracking = PlainTracking() if tracking is None else tracking
    out.mkdir(parents=True, exist_ok=True)
    check_protocol(out / "protocol.json", protocol)
    record_environment(out / "environment.jsonl", device)
    checkpoints = out / "checkpoints"
    checkpoints.mkdir(exist_ok=True)
    results = out / "results.csv"
    done = load_results(results)
    session = Session(stop_after_steps)
    dev = torch.device(device)

    def ensure(task: Task, data: dict[str, Split], spec: OptimizerSpec, lr: float, seed: int) -> list[Row]:
        key = (spec.name, task.name, lr, seed)
        ckpt = checkpoint_path(checkpoints, key)
        if key not in done:
            begin = time.perf_counter()
            rows = train_run(task, data, spec, lr, seed, protocol.budgets[task.name], dev, ckpt, tracking, session)
            append_rows(results, rows)
            # The rows as the CSV holds them (6 significant digits), so that choosing the rate
            # reads the same numbers whether the sweep's runs were just trained or read back.
            done[key] = [parse_row(dict(zip(FIELDS, format_row(row)))) for row in rows]
            log(
                f"{task.name:6s} {spec.name:12s} lr={lr:<8.3g} seed={seed}: val loss {final_val_loss(rows):.4f}, "
                f"test {task.metric} {rows[-1][7]:.4f}  ({time.perf_counter() - begin:.1f}s)"
            )
        # A checkpoint of a run already in the CSV is left over from a kill between the two writes.
        ckpt.unlink(missing_ok=True)
        return done[key]

    # Every optimizer's module is imported now, not when its turn comes: a run of half an hour
    # then trains with the code as it was when it started, even if a file changes under it.
    for spec in optimizers:
        importlib.import_module(spec.module)
        if spec.split is not None:
            importlib.import_module("labml_nn.optimizers.adamw")
    # Optimizer by optimizer, so that a line added with the next position, and run on top of a
    # finished experiment, leaves the CSV as a run of all the lines from nothing would write it.
    data = {name: {k: split.to(dev) for k, split in TASKS[name].load().items()} for name in tasks}
    for spec in optimizers:
        for task_name in tasks:
            task = TASKS[task_name]
            sweep = [
                (lr, ensure(task, data[task_name], spec, lr, protocol.seeds[0]))
                for lr in (round_lr(spec.default_lr * m) for m in protocol.lr_multipliers)
            ]
            best = select_lr(sweep)
            for seed in protocol.seeds[1:]:
                ensure(task, data[task_name], spec, best, seed)
    return done


# ## The table
@dataclass
class Summary:
    task: str
    optimizer: str
    lr: float
    # Final validation loss of each rate of the sweep (first seed)
    sweep: dict[float, float]
    test_loss: list[float]
    test_metric: list[float]

    @staticmethod
    def mean_std(xs: list[float]) -> tuple[float, float]:
        r"""
        Mean and sample standard deviation ($n - 1$); a diverged seed's `nan` makes both `nan`.
        """
        mean = sum(xs) / len(xs)
        if len(xs) < 2:
            return mean, 0.0
        return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def summarize(runs: dict[RunKey, list[Row]], protocol: Protocol) -> list[Summary]:
    r"""
    ### One summary per task and optimizer, in the order they ran

    The choice of rate is made again from the rows with `select_lr`, so the table cannot
    disagree with the runs that were made.
    """
    groups: dict[tuple[str, str], dict[tuple[float, int], list[Row]]] = {}
    for (optimizer, task, lr, seed), rows in runs.items():
        groups.setdefault((task, optimizer), {})[(lr, seed)] = rows
    summaries = []
    for (task, optimizer), group in groups.items():
        first = protocol.seeds[0]
        sweep = sorted((lr, rows) for (lr, seed), rows in group.items() if seed == first)
        best = select_lr(sweep)
        tests = [group[(best, s)][-1] for s in protocol.seeds if (best, s) in group]
        summaries.append(
            Summary(
                task,
                optimizer,
                best,
                {lr: final_val_loss(rows) for lr, rows in sweep},
                [r[6] for r in tests],
                [r[7] for r in tests],
            )
        )
    return summaries


def ranked(summaries: list[Summary], task: str) -> list[Summary]:
    r"""
    ### A task's summaries, best test metric first; a diverged one (`nan`) last
    """
    sign = -1.0 if TASKS[task].higher_is_better else 1.0

    def key(s: Summary) -> float:
        mean = Summary.mean_std(s.test_metric)[0]
        return sign * mean if math.isfinite(mean) else math.inf

    return sorted((s for s in summaries if s.task == task), key=key)


def table_cells(s: Summary) -> list[str]:
    r"""
    ### One line of the table: optimizer, chosen rate, test loss, test metric

    A rate at an end of its sweep is marked with an arrow ($\uparrow$ at the top, $\downarrow$ at
    the bottom): the sweep did not bracket the best rate, which may lie beyond it.
    """
    edge = " ↑" if s.lr == max(s.sweep) else " ↓" if s.lr == min(s.sweep) else ""
    (lm, ls), (mm, ms) = Summary.mean_std(s.test_loss), Summary.mean_std(s.test_metric)
    metric = f"{100 * mm:.1f} ± {100 * ms:.1f} %" if TASKS[s.task].higher_is_better else f"{mm:.3f} ± {ms:.3f}"
    return [s.optimizer, f"{s.lr:.3g}{edge}", f"{lm:.3f} ± {ls:.3f}", metric]


# Lines whose committed results came from an earlier version of their optimizer's code and are to be rerun;
# the page's tables mark them †.
TO_RERUN: tuple[str, ...] = ()
BASELINE_DOCS = "https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html"


def page_label(optimizer: str) -> str:
    r"""
    ### A line's name on the page: a link to its optimizer's page, † when it is to be rerun
    """
    pages = {spec.name: spec.module.rsplit(".", 1)[-1] + ".html" for spec in optimizer_specs()}
    target = BASELINE_DOCS if optimizer == BASELINE.name else pages[optimizer]
    return f"[{optimizer}]({target})" + (" †" if optimizer in TO_RERUN else "")


def results_table(summaries: list[Summary], task: str) -> str:
    r"""
    ### One task's results as the page shows them: best first, each line linked to its page
    """
    metric = "Test accuracy" if TASKS[task].higher_is_better else "Test bits per character"
    lines = [f"| {task.capitalize()} | Chosen rate | Test loss (nats) | {metric} |", "|---|---|---|---|"]
    for s in ranked(summaries, task):
        cells = table_cells(s)
        lines.append("| " + " | ".join([page_label(s.optimizer)] + cells[1:]) + " |")
    return "\n".join(lines) + "\n"


def markdown_table(summaries: list[Summary]) -> str:
    r"""
    ### The results as a Markdown table, best first within each task
    """
    lines = [
        "| Task | Optimizer | Chosen rate | Test loss (nats) | Test accuracy or bits/char | Seeds |",
        "|---|---|---|---|---|---|",
    ]
    for task in TASKS:
        for s in ranked(summaries, task):
            lines.append("| " + " | ".join([task] + table_cells(s) + [str(len(s.test_loss))]) + " |")
    return "\n".join(lines) + "\n"


def paired_differences(
    summaries: list[Summary], task: str, baseline: str = BASELINE.name
) -> list[tuple[str, list[float]]]:
    r"""
    ### Each line's test metric minus the baseline's, seed by seed

    A seed fixes the initial weights and the batches for every optimizer, so two lines' runs with one
    seed differ only in the optimizer, and their difference is a paired one. In the order of `ranked`,
    without the baseline.
    """
    base = next(s for s in summaries if s.task == task and s.optimizer == baseline).test_metric
    return [
        (s.optimizer, [x - y for x, y in zip(s.test_metric, base)])
        for s in ranked(summaries, task)
        if s.optimizer != baseline
    ]


def seeds_ahead(task: str, differences: list[float]) -> int:
    r"""
    ### On how many seeds a line beat the baseline (a tie is not a win)
    """
    return sum(d > 0 if TASKS[task].higher_is_better else d < 0 for d in differences)


def paired_table(summaries: list[Summary], task: str, test_items: int = DIGITS_TEST) -> str:
    r"""
    ### The paired differences as a Markdown table

    On the digits a difference is counted in test images (`test_items` of them, so one image is
    $100 / 360$ points) and its mean in points of accuracy; on the text both are in bits per character.
    """
    accuracy = TASKS[task].higher_is_better
    lines = [
        f"| {task.capitalize()} | Seed 0 | Seed 1 | Seed 2 | Mean ({'points' if accuracy else 'bits/char'}) | Seeds ahead |",
        "|---|---|---|---|---|---|",
    ]

    # A sign even on a rounded 0.000 says which side of the baseline the difference fell; an exact tie
    # (0 images) has none.
    def signed(x: float, spec: str) -> str:
        return format(x, spec) if x != 0 else format(0.0 if "f" in spec else 0, spec.lstrip("+"))

    for optimizer, diffs in paired_differences(summaries, task):
        cells = [signed(round(d * test_items), "+d") if accuracy else signed(d, "+.3f") for d in diffs]
        mean = sum(diffs) / len(diffs)
        cells.append(signed(100 * mean, "+.2f") if accuracy else signed(mean, "+.3f"))
        cells.append(f"{seeds_ahead(task, diffs)} of {len(diffs)}")
        lines.append("| " + " | ".join([page_label(optimizer)] + cells) + " |")
    return "\n".join(lines) + "\n"


def top_of_sweep(summaries: list[Summary]) -> list[tuple[str, str]]:
    r"""
    ### The (task, optimizer) lines whose chosen rate is the largest of their sweep
    """
    return [(s.task, s.optimizer) for s in summaries if s.lr == max(s.sweep)]


def machine(threads: int) -> str:
    r"""
    ### The machine, for the page: processor, cores, PyTorch and the thread count of the runs
    """
    processor = platform.processor() or platform.machine()
    # Linux leaves `platform.processor()` empty; the model name is in /proc/cpuinfo.
    with contextlib.suppress(OSError):
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        processor = names[0] if names else processor
    return (
        f"{processor}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {threads} thread(s)"
    )


# ## Command line
def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Compare the chapter's optimizers on digits and on text.")
    parser.add_argument("--quick", action="store_true", help="the reduced protocol, under 2 minutes on 2 CPUs")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda when a GPU is present")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/optimizers-experiment"),
        help="results.csv, checkpoints/, labml/ and the figures go here",
    )
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--optimizers", nargs="+", help="labels of the experiment's lines (default: all)")
    parser.add_argument("--no-labml", action="store_true", help="do not track with labml even if installed")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads; the CSV is byte-reproducible for a given thread count"
    )
    parser.add_argument("--plot-only", action="store_true", help="draw the figures from results.csv and stop")
    args = parser.parse_args(argv)

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but torch.cuda.is_available() is False")
    specs = list(optimizer_specs())
    if args.optimizers:
        names = [s.name for s in specs]
        unknown = [n for n in args.optimizers if n not in names]
        if unknown:
            parser.error(f"unknown optimizer(s) {', '.join(unknown)}; choose from {', '.join(names)}")
        specs = [s for s in specs if s.name in args.optimizers]
    protocol = QUICK if args.quick else FULL

    # On a GPU, cuBLAS needs a fixed workspace and deterministic kernels for repeatable numbers;
    # some kernels have no deterministic version (warn only), so only the CPU's CSV is promised.
    if args.device.startswith("cuda"):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)

    begin = time.perf_counter()
    if not args.plot_only:
        tracking = make_tracking(not args.no_labml, args.out / "labml")
        run_experiment(args.out, protocol, args.tasks, specs, args.device, tracking, threads=args.threads)
    runs = load_results(args.out / "results.csv")
    if not runs:
        parser.error(f"{args.out / 'results.csv'} holds no finished run to plot")
    from labml_nn.optimizers.experiment_plots import plot_all

    summaries = summarize(runs, protocol)
    plot_all(runs, summaries, protocol, args.out)
    print(markdown_table(summaries))
    for task in TASKS:
        if any(s.task == task and s.optimizer == BASELINE.name for s in summaries):
            print(paired_table(summaries, task))
    print(f"{machine(args.threads)}; {time.perf_counter() - begin:.0f}s")


# Nothing runs on import; only `python -m labml_nn.optimizers.experiment` trains.
if __name__ == "__main__":
    main()
