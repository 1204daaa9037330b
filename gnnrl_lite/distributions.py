r"""A categorical distribution over a variable, masked set of actions.

For "nodes as actions" (or neighbours, or edges) each graph in a batch has its own number of
candidate actions and only some are valid. Given scores :math:`s_a` and a mask :math:`M_a`,

.. math::

    \pi(a \mid s) = \frac{M_a \exp(s_a)}{\sum_{a'} M_{a'} \exp(s_{a'})}

Invalid actions get probability exactly zero (not a large negative logit), so entropies and
log-probabilities stay finite, and a row with no valid action raises ``ValueError``.

To reuse: copy this file, ``graphs.py`` and ``checks.py``; needs numpy, torch, dgl, gymnasium.
References: Huang & Ontañón, *A Closer Look at Invalid Action Masking in Policy Gradient Algorithms*, 2022.
"""

from __future__ import annotations

import torch

from .graphs import pad_by_graph

__all__ = ["MaskedCategorical"]


class MaskedCategorical:
    r"""Categorical distribution over the ``True`` entries of a boolean mask, row by row.

    Parameters
    ----------
    logits : torch.Tensor
        Shape ``(B, A)``; scores :math:`s_a` (``A`` may differ between batches: it is the padded width).
    mask : torch.Tensor
        Bool, shape ``(B, A)``; :math:`M_a`. Every row needs at least one ``True``.

    Attributes
    ----------
    probs, log_probs : torch.Tensor
        ``(B, A)``; zero probability (and ``-inf`` log-probability) at masked entries.

    Examples
    --------
    >>> d = MaskedCategorical(torch.zeros(1, 3), torch.tensor([[True, False, True]]))
    >>> d.probs
    tensor([[0.5000, 0.0000, 0.5000]])
    """

    def __init__(self, logits: torch.Tensor, mask: torch.Tensor):
        if logits.ndim != 2:
            raise ValueError(f"logits must have shape (B, A); got {tuple(logits.shape)}")
        mask = torch.as_tensor(mask, dtype=torch.bool, device=logits.device)
        if mask.shape != logits.shape:
            raise ValueError(f"mask shape {tuple(mask.shape)} does not match logits shape {tuple(logits.shape)}")
        if bool(torch.isnan(logits).any()):
            raise ValueError("logits contain NaN; check the policy's inputs and weights")
        empty = ~mask.any(dim=1)
        if bool(empty.any()):
            raise ValueError(f"action mask has no valid action in row(s) {empty.nonzero().flatten().tolist()}")
        self.mask = mask
        masked = logits.masked_fill(~mask, float("-inf"))
        self.log_probs = masked - torch.logsumexp(masked, dim=1, keepdim=True)  # (B, A)
        self.probs = self.log_probs.exp()

    @classmethod
    def from_graph(cls, scores: torch.Tensor, sizes: torch.Tensor, mask: torch.Tensor | None = None) -> "MaskedCategorical":
        """Build from per-node (or per-edge) scores of a batched graph.

        ``scores`` has shape ``(N,)``, ``sizes`` ``(B,)`` (``g.batch_num_nodes()``), and ``mask``
        ``(N,)`` bool or ``None`` (all nodes valid). Actions are *local* indices within each graph.
        """
        if scores.ndim != 1:
            raise ValueError(f"scores must have shape (N,); got {tuple(scores.shape)}")
        logits, valid = pad_by_graph(scores, sizes)
        if mask is not None:
            if mask.shape != scores.shape:
                raise ValueError(f"mask must have shape {tuple(scores.shape)}; got {tuple(mask.shape)}")
            m, _ = pad_by_graph(mask.to(torch.bool), sizes, fill=False)
            valid = valid & m
        return cls(logits, valid)

    def sample(self) -> torch.Tensor:
        """Draw one action per row, shape ``(B,)`` (int64)."""
        return torch.multinomial(self.probs, 1).squeeze(1)

    @property
    def mode(self) -> torch.Tensor:
        """The most probable valid action per row, shape ``(B,)``."""
        return self.log_probs.argmax(dim=1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Log-probability of ``actions`` (shape ``(B,)``); raises if an action is masked or out of range."""
        actions = actions.long()
        if actions.shape != (self.probs.shape[0],):
            raise ValueError(f"actions must have shape ({self.probs.shape[0]},); got {tuple(actions.shape)}")
        if bool(((actions < 0) | (actions >= self.probs.shape[1])).any()):
            raise ValueError(f"actions must lie in [0, {self.probs.shape[1]}); got {actions.tolist()}")
        if not bool(self.mask.gather(1, actions[:, None]).all()):
            raise ValueError("an action is masked out (invalid) in its row")
        return self.log_probs.gather(1, actions[:, None]).squeeze(1)

    def entropy(self) -> torch.Tensor:
        r""":math:`H = -\sum_a \pi(a) \log \pi(a)` over valid actions, shape ``(B,)``."""
        # zero the masked log-probabilities (-inf) first, so no -inf enters the sum or its gradient
        return -(self.probs * self.log_probs.masked_fill(~self.mask, 0.0)).sum(dim=1)
