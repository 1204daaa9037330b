r"""Heads that choose a node of a graph of any size: per-node Q-values and the proto-action.

Both read node embeddings :math:`z_v` from a gated GNN (:class:`gnnrl_lite.nn.GatedMPNN`) and a
graph embedding :math:`z_G = \sum_v z_v`, and respect the action mask :math:`M` (the last node
feature column, see :mod:`gnnrl_lite.graphs`).

- :class:`NodeQNet` (score-based, Khalil et al., 2017; Darvariu et al., 2021) gives every node its
  own Q-value, :math:`Q(G, v) = \mathrm{MLP}([z_v \,\|\, z_G])`, for :mod:`gnnrl_lite.algos.dqn`.
- :class:`ProtoActionActorCritic` (Dulac-Arnold et al., 2015; Darvariu et al., 2021) predicts one
  point in embedding space, the proto-action :math:`\hat a = \mathrm{MLP}(z_G)`, and prefers the valid
  nodes whose embeddings lie closest to it:

.. math::

    \pi(v \mid G) = \frac{M_v \exp\big(-\lVert \hat a - z_v \rVert_2\big)}{\sum_u M_u \exp\big(-\lVert \hat a - z_u \rVert_2\big)},
    \qquad V(G) = \mathrm{MLP}(z_G).

The score-based head spends one MLP evaluation per node; the proto-action head one per graph plus
a distance per node, which is what made it attractive for very large action sets.

- :class:`EdgeScoreActorCritic` chooses an *edge*: each directed edge gets the embedding
  :math:`[z_u \,\|\, z_v \,\|\, e_{uv}]` (or :math:`[z_u \,\|\, z_v]` without edge features), scored
  by an MLP in one pass, with a softmax over the valid edges (the edge mask).
"""

from __future__ import annotations

import functools

import dgl
import torch
from torch import nn

from .distributions import MaskedCategorical
from .graphs import collate_obs, pad_by_graph
from .nn import MLP, GatedMPNN, MPNNEncoder, readout
from .policies import _last_linear, layer_init

__all__ = ["NodeQNet", "ProtoActionActorCritic", "EdgeScoreActorCritic"]


def _check_masked_graph(g, node_dim: int, name: str) -> torch.Tensor:
    if not isinstance(g, dgl.DGLGraph) or "mask" not in g.ndata:
        raise ValueError(f"{name} expects a batched DGLGraph with ndata['mask'] (collate with node_mask=True)")
    x = g.ndata["x"]
    if x.shape[1] != node_dim:
        raise ValueError(f"node features must have {node_dim} columns (without the mask); got {x.shape[1]}")
    return x


class NodeQNet(nn.Module):
    r"""Q-values for "nodes as actions": :math:`Q(G, v) = \mathrm{MLP}([z_v \,\|\, z_G])` for every node.

    ``forward(g)`` returns ``(q, mask)`` padded to the largest graph in the batch: ``q`` of shape
    ``(B, N_max)`` and ``mask`` bool ``(B, N_max)``, the protocol of :mod:`gnnrl_lite.algos.dqn`.

    Parameters
    ----------
    node_dim : int
        Node feature size without the mask column.
    hidden : int
        Size of :math:`z_v`.
    steps : int
        Propagation steps of the GatedMPNN.
    aggregation : str
        Its neighbour aggregation (``"sum"``, ``"mean"`` or ``"max"``).
    """

    def __init__(self, node_dim: int, hidden: int = 32, steps: int = 3, aggregation: str = "sum"):
        super().__init__()
        self.node_dim = node_dim
        self.encoder = GatedMPNN(node_dim, hidden, steps, aggregation=aggregation)
        self.q = MLP(2 * hidden, (hidden,), 1, "relu")

    collate = staticmethod(functools.partial(collate_obs, node_mask=True))

    def forward(self, g: dgl.DGLGraph):
        x = _check_masked_graph(g, self.node_dim, "NodeQNet")
        z = self.encoder(g, x)  # (N, hidden)
        z_g = readout(g, z, "mean")  # (B, hidden); the mean keeps the scale across graph sizes
        graph_of = torch.repeat_interleave(torch.arange(g.batch_size), g.batch_num_nodes())
        q = self.q(torch.cat([z, z_g[graph_of]], dim=-1)).squeeze(-1)  # (N,)
        q, _ = pad_by_graph(q, g.batch_num_nodes())
        mask, _ = pad_by_graph(g.ndata["mask"].to(torch.bool), g.batch_num_nodes(), fill=False)
        return q, mask


class ProtoActionActorCritic(nn.Module):
    r"""The proto-action policy over nodes (see the module docstring for the equations).

    Parameters
    ----------
    node_dim : int
        Node feature size without the mask column.
    hidden : int
        Size of :math:`z_v` and of the proto-action.
    steps : int
        Propagation steps of the GatedMPNN.
    aggregation : str
        Its neighbour aggregation.
    """

    def __init__(self, node_dim: int, hidden: int = 32, steps: int = 3, aggregation: str = "sum"):
        super().__init__()
        self.node_dim = node_dim
        self.encoder = GatedMPNN(node_dim, hidden, steps, aggregation=aggregation)
        self.proto = MLP(hidden, (hidden,), hidden, "tanh")  # \hat a = MLP(z_G)
        self.critic = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.critic), gain=1.0)

    collate = staticmethod(functools.partial(collate_obs, node_mask=True))

    def forward(self, g: dgl.DGLGraph):
        x = _check_masked_graph(g, self.node_dim, "ProtoActionActorCritic")
        z = self.encoder(g, x)  # (N, hidden)
        z_g = readout(g, z, "sum")  # (B, hidden)
        proto = self.proto(z_g)  # (B, hidden)
        graph_of = torch.repeat_interleave(torch.arange(g.batch_size), g.batch_num_nodes())
        scores = -(proto[graph_of] - z).norm(dim=-1)  # (N,): -||a_hat - z_v||
        dist = MaskedCategorical.from_graph(scores, g.batch_num_nodes(), g.ndata["mask"])
        return dist, self.critic(z_g).squeeze(-1)


class EdgeScoreActorCritic(nn.Module):
    r"""Edges as actions, scored in one pass from edge embeddings (see the module docstring).

    .. math::

        z = \mathrm{MPNN}(G, x, e), \qquad
        \pi(uv \mid G) = \frac{M_{uv} \exp s([z_u \| z_v \| e_{uv}])}{\sum_{u'v'} M_{u'v'} \exp s([z_{u'} \| z_{v'} \| e_{u'v'}])},
        \qquad V(G) = \mathrm{MLP}\Big(\tfrac{1}{|V|} \textstyle\sum_v z_v\Big)

    Actions are edge indices local to each graph (the order of ``edge_links``). With
    ``use_edge_features=False`` neither the message passing nor the score sees :math:`e_{uv}`,
    so edges are told apart only by their end nodes.

    Parameters
    ----------
    node_dim, edge_dim : int
        Node and edge feature sizes without the edge mask column.
    hidden : int
        Size of :math:`z_v`.
    layers : int
        Message-passing layers.
    use_edge_features : bool
        Whether the encoder and the score read :math:`e_{uv}`.
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden: int = 32, layers: int = 3, use_edge_features: bool = True):
        super().__init__()
        self.node_dim, self.edge_dim, self.use_edge_features = node_dim, edge_dim, use_edge_features
        used = edge_dim if use_edge_features else 0
        self.encoder = MPNNEncoder(node_dim, hidden, layers, used, "sum", "relu")
        self.score = layer_init(MLP(2 * hidden + used, (hidden,), 1, "tanh"))  # s([z_u || z_v || e_uv])
        layer_init(_last_linear(self.score), gain=0.01)
        self.critic = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.critic), gain=1.0)

    collate = staticmethod(functools.partial(collate_obs, edge_mask=True))

    def forward(self, g: dgl.DGLGraph):
        if not isinstance(g, dgl.DGLGraph) or "mask" not in g.edata:
            raise ValueError("EdgeScoreActorCritic expects a batched DGLGraph with edata['mask'] (collate with edge_mask=True)")
        x, e = g.ndata["x"], g.edata["e"]
        if x.shape[1] != self.node_dim or e.shape[1] != self.edge_dim:
            raise ValueError(f"expected {self.node_dim} node and {self.edge_dim} edge feature columns (without the mask); got {x.shape[1]} and {e.shape[1]}")
        z = self.encoder(g, x, e if self.use_edge_features else None)  # (N, hidden)
        u, v = g.edges()
        parts = [z[u], z[v]] + ([e] if self.use_edge_features else [])
        scores = self.score(torch.cat(parts, dim=-1)).squeeze(-1)  # (E,)
        dist = MaskedCategorical.from_graph(scores, g.batch_num_edges(), g.edata["mask"])
        return dist, self.critic(readout(g, z, "mean")).squeeze(-1)
