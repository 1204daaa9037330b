r"""E2GN2's action heads for mixed action spaces: movement from the agent's vector, choices from invariant features.

McClellan et al. (2024, §4.3 and their rebuttal) read every action straight from the last layer
of an equivariant graph network (:class:`~gnnrl_lite.egnn.EquivariantGraphNetwork`), with no MLP
after it, so that the policy keeps the network's symmetry and works for any number of entities.
For agent :math:`i` of a graph with outputs :math:`(h^L, u^L)`:

.. math::

    \text{movement} &\sim \mathcal{N}\big(u_i^L,\ \mathrm{diag}\,\sigma^2\big)
        && \text{(equivariant: rotates with the scene)} \\
    \text{choice} &\sim \mathrm{Cat}\big(\mathrm{softmax}(W h_i^L + c)\big)
        && \text{(invariant, e.g. move or shoot)} \\
    \text{target} &\sim \mathrm{Cat}\big(\mathrm{softmax}_{j \in T}(w^\top h_j^L + b)\big)
        && \text{(one logit per candidate node } j \in T \text{, e.g. the enemies)} \\
    V &= v^\top h_i^{\prime L} + d && \text{(invariant, from a separate critic network)}

The target logits are computed per node, so the number of candidates can change from graph to
graph (a mask picks them; no maximum is hard-coded) and relabelling the nodes relabels the
choice. In SMACv2 the paper samples all three and combines them (and, for a discrete move set,
rounds the sampled movement to the nearest direction); :class:`HybridTeamActorCritic` returns the
three distributions and leaves the combination to the environment wrapper.

To reuse: copy this file with ``egnn.py``, ``distributions.py``, ``graphs.py``, ``nn.py`` and
``checks.py``; needs torch and dgl.

References
----------
McClellan, Haghani, Winder, Huang & Tokekar, *Boosting Sample Efficiency and Generalization in
Multi-agent Reinforcement Learning via Equivariance*, NeurIPS 2024
(https://openreview.net/forum?id=MQIET1VfoV).
"""

from __future__ import annotations

import dgl
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from .checks import check_positive_int
from .distributions import MaskedCategorical
from .egnn import EquivariantGraphNetwork, _check_inputs

__all__ = ["agent_nodes", "HybridTeamActorCritic"]


def agent_nodes(g: dgl.DGLGraph, agent: torch.Tensor) -> torch.Tensor:
    """Global node index ``(B,)`` of each graph's acting agent, from its local index ``agent`` ``(B,)`` in its own graph.

    Raises ``ValueError`` if ``agent`` has the wrong shape or points outside its graph.
    """
    sizes = g.batch_num_nodes()
    agent = torch.as_tensor(agent, dtype=torch.long, device=sizes.device)
    if agent.shape != sizes.shape:
        raise ValueError(f"agent must hold one local node index per graph, shape ({g.batch_size},); got {tuple(agent.shape)}")
    if bool(((agent < 0) | (agent >= sizes)).any()):
        raise ValueError(f"agent indices {agent.tolist()} must lie in [0, size) of their graphs (sizes {sizes.tolist()})")
    offsets = torch.cumsum(sizes, 0) - sizes  # first node of each graph
    return offsets + agent


class HybridTeamActorCritic(nn.Module):
    r"""An E2GN2 (or EGNN / GNN) actor-critic with a movement, an invariant choice and a per-node target head.

    Two networks of the same ``kind`` read the batched graph: the actor's outputs give the three
    distributions of the module docstring, the critic's give the value. All heads are linear maps
    of one node's last-layer output; nothing else follows the network.

    Parameters
    ----------
    in_dim : int
        Size of the invariant node features :math:`h_j`.
    num_choices : int
        Options of the invariant choice (e.g. 2: move or act on a target).
    kind : str
        ``"e2gn2"``, ``"egnn"`` or ``"gnn"`` (:class:`~gnnrl_lite.egnn.EquivariantGraphNetwork`).
    hidden, layers, coord_dim
        As in :class:`~gnnrl_lite.egnn.EquivariantGraphNetwork` (the paper: hidden 32, 2-D).
    log_std_init : float
        Initial state-independent :math:`\log\sigma` of the movement.

    Notes
    -----
    ``forward(g, h, x, agent, targets)`` takes a batched graph of ``B`` graphs with ``N`` nodes in
    all, features ``h`` ``(N, in_dim)``, coordinates ``x`` ``(N, coord_dim)``, the acting agent's
    local node index per graph ``agent`` ``(B,)`` and a boolean candidate mask ``targets``
    ``(N,)`` (at least one ``True`` per graph). It returns ``(movement, choice, target, value)``:
    an ``Independent(Normal)`` over ``(B, coord_dim)``, a ``Categorical`` over ``(B, num_choices)``,
    a :class:`~gnnrl_lite.distributions.MaskedCategorical` over each graph's nodes (local
    indices, padded to the largest graph) and values ``(B,)``.

    *Symmetry* (for ``"egnn"`` and ``"e2gn2"``): rotating or reflecting ``x`` rotates the movement
    mean and leaves the choice, target and value distributions unchanged; relabelling the nodes
    relabels the target distribution.

    Examples
    --------
    >>> from gnnrl_lite.egnn import complete_graph
    >>> g = complete_graph(5, batch=2)
    >>> policy = HybridTeamActorCritic(in_dim=3, num_choices=2)
    >>> targets = torch.tensor([False, False, True, True, True] * 2)
    >>> move, choice, target, value = policy(g, torch.randn(10, 3), torch.randn(10, 2), torch.tensor([0, 1]), targets)
    >>> move.sample().shape, choice.sample().shape, target.probs.shape, value.shape
    (torch.Size([2, 2]), torch.Size([2]), torch.Size([2, 5]), torch.Size([2]))
    """

    def __init__(self, in_dim: int, num_choices: int, kind: str = "e2gn2", hidden: int = 32, layers: int = 2,
                 coord_dim: int = 2, log_std_init: float = 0.0):
        super().__init__()
        self.num_choices = check_positive_int(num_choices, "num_choices")
        self.actor = EquivariantGraphNetwork(in_dim, hidden, layers, kind, coord_dim)
        self.critic = EquivariantGraphNetwork(in_dim, hidden, layers, kind, coord_dim)
        self.kind, self.in_dim, self.coord_dim = self.actor.kind, self.actor.in_dim, self.actor.coord_dim
        H = self.actor.hidden
        if self.kind == "gnn":  # coordinates never move: the mean must come from h (not equivariant)
            self.mean_head = nn.Linear(H, self.coord_dim)
        self.choice_head = nn.Linear(H, self.num_choices)  # W h_i^L + c
        self.target_head = nn.Linear(H, 1)  # w^T h_j^L + b, per node
        self.value_head = nn.Linear(H, 1)  # v^T h'_i^L + d
        self.log_std = nn.Parameter(torch.full((self.coord_dim,), float(log_std_init)))

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, in_dim={self.in_dim}, num_choices={self.num_choices}, coord_dim={self.coord_dim}"

    def forward(self, g: dgl.DGLGraph, h: torch.Tensor, x: torch.Tensor, agent: torch.Tensor, targets: torch.Tensor):
        _check_inputs(g, h, x, self.in_dim, "HybridTeamActorCritic", self.coord_dim)
        targets = torch.as_tensor(targets, dtype=torch.bool, device=h.device)
        if targets.shape != (g.num_nodes(),):
            raise ValueError(f"targets must be a boolean mask with one entry per node, shape ({g.num_nodes()},); got {tuple(targets.shape)}")
        i = agent_nodes(g, agent)  # (B,)
        h_L, u_L = self.actor(g, h, x)  # (N, H), (N, D)
        mean = self.mean_head(h_L[i]) if self.kind == "gnn" else u_L[i]  # mu = u_i^L: (B, D)
        movement = Independent(Normal(mean, self.log_std.exp().expand_as(mean)), 1)
        choice = Categorical(logits=self.choice_head(h_L[i]))  # (B, num_choices)
        target = MaskedCategorical.from_graph(self.target_head(h_L).squeeze(-1), g.batch_num_nodes(), targets)
        h_value, _ = self.critic(g, h, x)
        value = self.value_head(h_value[i]).squeeze(-1)  # (B,)
        return movement, choice, target, value
