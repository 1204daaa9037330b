r"""Full-batch classification of nodes or graphs: the supervised warm-ups of Chapters 1 and 2.

Given a (batched) graph, node features :math:`X` of shape ``(N, D)``, labels :math:`y` with one entry
per node (or per graph) and a boolean training mask, minimise the cross-entropy on the training rows,

.. math::

    \mathcal{L}(\theta) = -\frac{1}{|\mathcal{V}_\text{train}|} \sum_{v \in \mathcal{V}_\text{train}}
    \log \mathrm{softmax}\big(f_\theta(G, X)_v\big)_{y_v},

with Adam, and report accuracy on any other mask. The model is ``f(graph, features) -> (N, C)``
logits, so a feature-only MLP baseline is ``lambda g, x: mlp(x)`` wrapped in a module.
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from tqdm.std import tqdm

__all__ = ["fit_classifier", "accuracy"]


def accuracy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> float:
    """Fraction of ``mask`` nodes whose arg-max logit equals the label."""
    if logits.shape[0] != labels.shape[0] or mask.shape != labels.shape:
        raise ValueError(f"logits (N, C), labels (N,) and mask (N,) must agree; got {tuple(logits.shape)}, {tuple(labels.shape)}, {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor; got dtype {mask.dtype}")
    if not bool(mask.any()):
        raise ValueError("mask selects no nodes")
    return (logits[mask].argmax(-1) == labels[mask]).float().mean().item()


def fit_classifier(model: nn.Module, graph, features: torch.Tensor, labels: torch.Tensor, train_mask: torch.Tensor,
                   *, epochs: int = 200, lr: float = 0.01, weight_decay: float = 5e-4, progress: bool = False) -> list[float]:
    """Train ``model(graph, features) -> logits`` by full-batch Adam on the ``train_mask`` rows; return the loss per epoch.

    The logits have one row per labelled item: per node for node classification (Chapter 1), per
    graph of a batch for graph classification (Chapter 2). ``labels`` and ``train_mask`` have one
    entry per row. ``progress`` shows a tqdm bar over epochs with the current loss.
    """
    if train_mask.dtype != torch.bool or train_mask.shape != labels.shape:
        raise ValueError("train_mask must be a bool tensor with the same shape as labels")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    model.train()
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, file=sys.stderr, mininterval=2.0, ncols=100)
    for _ in bar:
        logits = model(graph, features)
        if logits.shape[0] != labels.shape[0]:
            raise ValueError(f"the model returned {logits.shape[0]} rows of logits but labels has {labels.shape[0]}")
        loss = nn.functional.cross_entropy(logits[train_mask], labels[train_mask])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    model.eval()
    return losses
