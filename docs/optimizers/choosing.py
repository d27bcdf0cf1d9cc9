# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Which optimizer when
summary: What to choose for a new training run, and at what learning rate relative to AdamW, with each recommendation marked as coming from this chapter's experiment or from the literature.
---

# Which optimizer when

A practitioner's answer to "which optimizer should I use?", and at what learning rate relative to
[AdamW](adamw.html). Each recommendation says where it comes from:

* **[experiment]**: [the chapter's experiment](experiment.html), two small models (a CNN on 8×8
  digits, a small pre-norm transformer on Python's help text), a few hundred steps, constant
  rates but for AdamW with warm-up and cosine decay and for Schedule-Free AdamW, three seeds. Its numbers are quoted from the committed `experiment_results/results.csv`,
  and `tests/optimizers/test_choosing.py` recomputes each of them. A small experiment can show where
  a claim's conditions hold; it cannot confirm a claim made at scale.
* **[literature]**: the papers and reports cited; the experiment did not test it.

## The default: AdamW, with warm-up and cosine decay

Start with [AdamW](adamw.html) ($\beta_1 = 0.9$, $\beta_2 = 0.999$ or $0.95$ for large language
models, $\lambda \approx 0.01$ to $0.1$), a linear [warm-up](adam_warmup.html) over the first 1–5%
of the steps and a [cosine decay](adam_warmup_cosine_decay.html) to about a tenth of the peak.

* **[experiment]** The Adam family is forgiving: AdamW's chosen rate was $3.16 \cdot 10^{-3}$ on both
  tasks, a factor of 3 either way cost little, and no Adam-family line diverged anywhere in the
  sweep. AdamW reached 98.3% test accuracy on the digits and 2.976 bits per character on the text.
  With a schedule like it (a warm-up over the first 5% of the run, then a cosine decay to $0$ rather
  than to a tenth), it was level on the digits (98.5%, within seed noise) and 0.094 bits per
  character behind the constant rate on the text (3.070), on every seed. The text's run is 200
  steps, half an epoch,
  and the constant rate's validation loss was still falling at its end: a run this short shows what
  the decay costs, not what it is for, so the experiment neither confirms nor refutes the default.
* **[literature]** Decoupled decay: [Loshchilov & Hutter, 2019](https://arxiv.org/abs/1711.05101).
  Warm-up: [Goyal et al., 2017](https://arxiv.org/abs/1706.02677); cosine decay:
  [Loshchilov & Hutter, 2017](https://arxiv.org/abs/1608.03983). [RAdam](radam.html) was proposed as
  a replacement for warm-up ([Liu et al., 2020](https://arxiv.org/abs/1908.03265)); in practice
  warm-up stays the common choice.

## Convolutional networks: SGD with momentum

* **[experiment]** On the digits' CNN, momentum SGD ($\mu = 0.9$) at $0.1$, about 32 times AdamW's
  rate, reached 97.7%, within seed noise of every line above it but SOAP (its best seed reaches
  their worst), with the widest spread of seeds on the digits but LAMB's (96.4% to 98.6%); at $0.3$
  it ended at chance level, so tune it more carefully than AdamW. On the transformer it was behind (3.096 bits per
  character against AdamW's 2.976).
* **[literature]** SGD with momentum and a step or cosine schedule remains the standard for image
  classification with CNNs, where it often generalizes better than adaptive methods
  ([Wilson et al., 2017](https://arxiv.org/abs/1705.08292)); adaptive methods matter for attention
  models ([Zhang et al., 2020](https://arxiv.org/abs/1912.03194)). See the [SGD page](sgd.html).

## Hidden matrices of a transformer: Muon, with AdamW for the rest

Give [Muon](muon.html) the 2-D weight matrices of the hidden layers, and AdamW the embeddings, the
output layer, the biases and the norms (the page's `split_params` does the split).

* **[experiment]** Muon is one of the two results that stand out of the noise (the other is
  [SOAP](soap.html), below): on the text it reached
  2.840 bits per character at $0.02$, 0.136 bits ahead of AdamW, and each of its seeds was ahead
  of every seed of every other line but SOAP. Muon's rate is not on AdamW's scale: with the default
  `adjust_lr_fn` (Keller Jordan's) an update's entries have a root mean square of one over the square
  root of the fan-in, and $0.02$ was its best; with `adjust_lr_fn="match_rms_adamw"` AdamW's rate and
  decay can be reused (Liu et al.). On the CNN, where it
  drives one layer, it says little (98.4% at $0.02$, within noise of the rest).
* **[literature]** [Jordan et al., 2024](https://kellerjordan.github.io/posts/muon/) and
  [Liu et al., 2025](https://arxiv.org/abs/2502.16982) (Muon at scale, with AdamW-matched rates).
  Check it at your scale before believing the size of the win.

## Preconditioned matrices: SOAP and Shampoo

[Shampoo](shampoo.html) preconditions each weight matrix's gradient from both sides by roots of
two Kronecker factors of its gradient statistics; [SOAP](soap.html) runs Adam in the eigenbasis of
those factors. Both keep the factors and their eigenvectors, of size $n_r^2$ and $n_c^2$ per
$n_r \times n_c$ matrix, beside Adam's $2n$, and refresh the eigenvectors every few steps.

* **[experiment]** SOAP is the other result that stands out: on the text it reached 2.669 bits per
  character at $9.49 \cdot 10^{-3}$, three times its authors' rate, 0.307 bits ahead of AdamW and
  0.272 ahead of Shampoo, and each of its seeds was ahead of every seed of every other line; on the
  digits it reached 99.1% at $9.49 \cdot 10^{-4}$, within seed noise. It ran with its authors'
  $\beta_1 = \beta_2 = 0.95$, AdamW with $0.9$ and $0.999$, and only the rate was tuned, so the
  experiment cannot say how much of the lead is the eigenbasis. Shampoo, with Adam grafting, was
  ahead of AdamW on every seed of the text, but by 0.035 bits (2.940), and within seed noise on the
  digits (98.6%).
* **[literature]** [Vyas et al., 2024](https://arxiv.org/abs/2409.11321) (SOAP, on language models
  of 360M and 660M parameters with large batches: over 40% fewer steps than AdamW and about 20%
  fewer than Shampoo); [Gupta et al., 2018](https://arxiv.org/abs/1802.09568) (Shampoo);
  [Shi et al., 2023](https://arxiv.org/abs/2309.06497) (Distributed Shampoo, as it is run at scale).
  Compare at your scale, and against AdamW with the same betas, before believing the size of the win.

## When optimizer memory binds: Adafactor or Lion

Adam keeps $2n$ numbers of state. [Adafactor](adafactor.html) keeps $n_r + n_c$ per $n_r \times n_c$
matrix (without its first moment); [Lion](lion.html) keeps $n$.

* **[experiment]** Lion's best rates were $3.16 \cdot 10^{-4}$ on the digits and $10^{-3}$ on the
  text: 10 and 3.16 times below AdamW's, as its paper advises. It matched AdamW on the text (2.967
  bits per character) and fell behind on the digits (96.7%). Adafactor, run without momentum and
  without its own relative step and warm-up, was level on the digits (99.0%, at the top of its
  sweep, $10^{-2}$) and 0.107 bits behind AdamW on the text at AdamW's rate.
* **[literature]** [Shazeer & Stern, 2018](https://arxiv.org/abs/1804.04235) (Adafactor, with its own
  schedule); [Chen et al., 2023](https://arxiv.org/abs/2302.06675) (Lion: a rate 3–10 times smaller
  than AdamW's and a decay 3–10 times larger, so that $\alpha\lambda$ stays the same; its advantage
  grows with the batch size).

## When the run's length is unknown: Schedule-Free AdamW

A cosine schedule needs the number of steps in advance. [Schedule-Free AdamW](schedule_free.html)
needs none: evaluate at the average $x_t$ (call `eval()`), at any step.

* **[experiment]** Run at the `schedulefree` package's default rate, $2.5 \cdot 10^{-3}$, with
  AdamW's decay and a warm-up over the first 5% of the run, and evaluated at $x_t$: the sweep chose
  that rate on both tasks, and the rate three times higher was worse on both. Against AdamW with
  warm-up and cosine decay, each at its best swept rate, it was 0.103 bits per character ahead on
  the text (2.967 against 3.070) and 1.2 points behind on the digits (97.3% against 98.5%), on
  every seed both times: one task each way. On the text it was level with the constant-rate AdamW.
* **[literature]** [Defazio et al., 2024](https://arxiv.org/abs/2405.15682)
  report it matching or beating tuned cosine schedules across their benchmarks, at a learning rate
  often a few times higher than AdamW's, with a warm-up. Its theorem is for Schedule-Free SGD on
  convex problems, not for the AdamW form.

## Batches of thousands: LARS and LAMB

[LARS and LAMB](lars_lamb.html) rescale each layer's momentum SGD or Adam step to a fixed fraction
of the layer's weight norm, so that a rate raised with the batch size does not throw one layer far.

* **[experiment]** At the experiment's batches of 64 and 16 they were behind their own updates
  without the ratio, momentum SGD and Adam, on every seed of both tasks: LARS reached 95.8% (at
  $0.1$) and 3.405 bits per character (at $0.316$), last on both tasks, and LAMB 96.9% and 3.043
  (at $10^{-2}$ on both). LARS did not diverge at any rate of its sweep, up to $1$, where momentum
  SGD did. The experiment does not test them where they are meant to help.
* **[literature]** [You, Gitman & Ginsburg, 2017](https://arxiv.org/abs/1708.03888) (LARS: AlexNet
  with batches of 8K, ResNet-50 with 32K); [You et al., 2020](https://arxiv.org/abs/1904.00962)
  (LAMB: BERT with batches of 32K and more, in 76 minutes). At small batches, nothing here
  recommends them over momentum SGD or AdamW.

## Sparse features: Adagrad

[Adagrad](adagrad.html) divides each coordinate's step by the root of the sum of its squared
gradients, so a rarely active feature keeps a large step and every step only shrinks.

* **[experiment]** At $3.16 \cdot 10^{-2}$ on the digits and $10^{-2}$ on the text, 10 and 3.16
  times AdamW's rate, it was within seed noise on the digits (98.3%) and next to last on the text,
  ahead only of LARS (3.254 bits per character, 0.279 behind AdamW), with the widest spread of seeds
  there. Neither task has
  sparse features.
* **[literature]** [Duchi et al., 2011](https://jmlr.org/papers/v12/duchi11a.html): regret bounds for
  online convex learning, with the largest gains for sparse gradients.

## Engineering, not algorithms: mixed precision and FusedAdam

[Mixed precision](mixed_precision.html) and [FusedAdam](fused_adam.html) compute the same update as
Adam, in less memory or time; they are not a choice between algorithms, and the learning rate does
not change.

* **[experiment]** FusedAdam's result rows are the same bytes as Adam's.
* **[literature]** Mixed precision with float32 master weights and loss scaling:
  [Micikevicius et al., 2018](https://arxiv.org/abs/1710.03740). Use bfloat16 where the hardware has it
  (no loss scaling needed), and `torch.optim.AdamW(fused=True)` on a GPU.

## Rates relative to AdamW, at a glance

| Optimizer | Rate relative to AdamW's | Source |
|---|---|---|
| [SGD with momentum](sgd.html) ($\mu = 0.9$) | about 30× (0.1 against $3.16 \cdot 10^{-3}$) | experiment |
| [Muon](muon.html) (hidden matrices) | its own scale; $0.02$ was best on both tasks | experiment, literature |
| [Lion](lion.html) | $1/3$ to $1/10$, with $\lambda$ 3 to 10 times larger | experiment, literature |
| [Adafactor](adafactor.html) (no relative step) | about 1× to 3× | experiment |
| [AdamW with warm-up and cosine decay](adam_warmup_cosine_decay.html) | 1× to 3× as its peak ($3.16 \cdot 10^{-3}$ on the text, $10^{-2}$ on the digits) | experiment |
| [Adagrad](adagrad.html) | 3× to 10× ($10^{-2}$ and $3.16 \cdot 10^{-2}$) | experiment |
| [SOAP](soap.html) | $1/3$ to 3× ($9.49 \cdot 10^{-4}$ on the digits, $9.49 \cdot 10^{-3}$ on the text) | experiment |
| [Shampoo](shampoo.html) (Adam grafting) | $1/3$ to 1× ($9.49 \cdot 10^{-4}$ on the digits, $3 \cdot 10^{-3}$ on the text) | experiment |
| [LAMB](lars_lamb.html) | about 3× ($10^{-2}$ on both tasks) | experiment |
| [LARS](lars_lamb.html) ($\eta = 10^{-2}$) | its own scale: $0.1$ on the digits, $0.316$ on the text | experiment |
| [Schedule-Free AdamW](schedule_free.html) | about 1× here ($2.5 \cdot 10^{-3}$), with warm-up; a few times higher in its paper | experiment, literature |
| [Mixed precision](mixed_precision.html), [FusedAdam](fused_adam.html) | 1× (the same update) | experiment (FusedAdam), literature |
"""
