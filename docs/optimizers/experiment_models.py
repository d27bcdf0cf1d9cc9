# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Models for the optimizer experiment
summary: The two small models the optimizer experiment trains, a convolutional network for 8x8 digits and a character-level causal transformer.
---

# Models for the optimizer experiment

Both models are small enough that a run of the [experiment](experiment.html) takes seconds on
one CPU thread, yet they hold the parameter shapes an optimizer meets in practice:
convolution kernels, dense matrices, biases, embeddings and layer-norm gains.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class DigitsCNN(nn.Module):
    r"""
    ## A small CNN for $8 \times 8$ digits

    Two $3 \times 3$ convolutions keep the $8 \times 8$ resolution, one max-pool halves it,
    and two dense layers classify. With the defaults, which the experiment uses, it has 38,282
    parameters, 32,832 of them in `fc1`.
    """

    def __init__(self, channels: int = 16, hidden: int = 64, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        # After the pool: $2c$ channels of $4 \times 4$.
        self.fc1 = nn.Linear(2 * channels * 16, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # $[B, 1, 8, 8] \to [B, c, 8, 8] \to [B, 2c, 8, 8] \to [B, 2c, 4, 4]$
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        # $[B, 32c] \to [B, \text{hidden}] \to [B, 10]$ logits
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class CausalSelfAttention(nn.Module):
    r"""
    ## Causal multi-head self-attention

    Position $i$ attends to positions $j \le i$, so the model predicts each character from the
    ones before it only.
    """

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"Invalid heads: {heads} (must divide d_model={d_model})")
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        # $[B, T, 3d] \to$ three $[B, h, T, d/h]$
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # $\operatorname{softmax}(q k^\top / \sqrt{d/h} + \text{mask})\, v$, $[B, h, T, d/h]$
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    r"""
    ## A pre-norm transformer block

    $x + \operatorname{Attn}(\operatorname{LN}(x))$, then $x + \operatorname{MLP}(\operatorname{LN}(x))$:
    with the norms inside the residual branches the residual stream is never rescaled, which
    lets a model this shallow train without a learning-rate warm-up.
    """

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    r"""
    ## A character-level causal transformer

    Token and learned position embeddings, `layers` pre-norm blocks, a final norm and an
    untied read-out to the vocabulary. With the defaults and the experiment's vocabulary of 97
    characters, 116,705 parameters.
    """

    def __init__(self, vocab: int, context: int = 64, d_model: int = 64, heads: int = 4, layers: int = 2):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([Block(d_model, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)
        # GPT-2's initialization: weights $\mathcal{N}(0, 0.02^2)$, and the projections that write
        # into the residual stream scaled by $1/\sqrt{2 \cdot \text{layers}}$ so that the stream's
        # variance does not grow with depth.
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight", "mlp.2.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # `ids` is $[B, T]$ with $T \le$ `context`; the result is $[B, T, \text{vocab}]$ logits.
        t = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(t, device=ids.device))[None]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))
