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
- :class:`TwoStepEdgeActorCritic` chooses an edge as two nodes: a source :math:`u` among the nodes
  with a valid outgoing edge, then, in a second forward pass whose input flags :math:`u`, a
  destination among :math:`u`'s valid edges; :math:`\pi(uv) = \pi(u)\, \pi(v \mid u)`.
- :class:`LineGraphActorCritic` turns edges into nodes: message passing runs on the line graph
  :math:`L(G)` (``dgl.line_graph``, one node per directed edge :math:`u \to v`, joined to the edges
  :math:`v \to w`, :math:`w \ne u`), whose node features are :math:`[e_{uv} \,\|\, x_u \,\|\, x_v]`,
  and each line-graph node is scored like a node. For a graph stored with both directions of every
  edge, :math:`L(G)` has :math:`\sum_v d_v (d_v - 1)` edges, which grows with the square of the degrees.
"""

from __future__ import annotations

import functools

import dgl
import torch
from torch import nn

from .distributions import MaskedCategorical
from .graphs import collate_obs, graph_ids, pad_by_graph
from .nn import MLP, GatedMPNN, MPNNEncoder, readout
from .policies import _last_linear, layer_init

__all__ = ["NodeQNet", "ProtoActionActorCritic", "EdgeScoreActorCritic", "TwoStepEdgeActorCritic", "LineGraphActorCritic",
           "line_graph_num_edges"]


def _check_masked_graph(g, node_dim: int, name: str) -> torch.Tensor:
    if not isinstance(g, dgl.DGLGraph) or "mask" not in g.ndata:
        raise ValueError(f"{name} expects a batched DGLGraph with ndata['mask'] (collate with node_mask=True)")
    x = g.ndata["x"]
    if x.shape[1] != node_dim:
        raise ValueError(f"node features must have {node_dim} columns (without the mask); got {x.shape[1]}")
    return x


def _check_edge_graph(g, node_dim: int, edge_dim: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(g, dgl.DGLGraph) or "mask" not in g.edata:
        raise ValueError(f"{name} expects a batched DGLGraph with edata['mask'] (collate with edge_mask=True)")
    x, e = g.ndata["x"], g.edata["e"]
    if x.shape[1] != node_dim or e.shape[1] != edge_dim:
        raise ValueError(f"expected {node_dim} node and {edge_dim} edge feature columns (without the mask); got {x.shape[1]} and {e.shape[1]}")
    return x, e


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
        graph_of = graph_ids(g.batch_num_nodes())
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
        graph_of = graph_ids(g.batch_num_nodes())
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
        x, e = _check_edge_graph(g, self.node_dim, self.edge_dim, "EdgeScoreActorCritic")
        z = self.encoder(g, x, e if self.use_edge_features else None)  # (N, hidden)
        u, v = g.edges()
        parts = [z[u], z[v]] + ([e] if self.use_edge_features else [])
        scores = self.score(torch.cat(parts, dim=-1)).squeeze(-1)  # (E,)
        dist = MaskedCategorical.from_graph(scores, g.batch_num_edges(), g.edata["mask"])
        return dist, self.critic(readout(g, z, "mean")).squeeze(-1)


def line_graph_num_edges(g: dgl.DGLGraph) -> int:
    r"""Edges of ``dgl.line_graph(g, backtracking=False)`` from the degrees: :math:`\sum_v d^-_v d^+_v - r`.

    :math:`d^-_v, d^+_v` are in- and out-degrees and :math:`r` is the number of directed edges whose
    reverse edge is also in ``g`` (the excluded backtracking pairs :math:`u \to v \to u`). For a graph
    with both directions of every edge this is :math:`\sum_v d_v (d_v - 1)`.
    """
    if not isinstance(g, dgl.DGLGraph):
        raise TypeError(f"expected a DGLGraph; got {type(g).__name__}")
    pairs = int((g.in_degrees() * g.out_degrees()).sum())
    u, v = g.edges()
    return pairs - int(g.has_edges_between(v, u).sum())


class LineGraphActorCritic(nn.Module):
    r"""Edges as actions through the line graph (see the module docstring).

    .. math::

        h = \mathrm{MPNN}\big(L(G), [e_{uv} \| x_u \| x_v]\big), \qquad
        \pi(uv \mid G) \propto M_{uv} \exp s(h_{uv}), \qquad
        V(G) = \mathrm{MLP}\Big(\tfrac{1}{|E|} \textstyle\sum_{uv} h_{uv}\Big)

    Parameters
    ----------
    node_dim, edge_dim : int
        Node and edge feature sizes of :math:`G` without the edge mask column.
    hidden : int
        Size of :math:`h_{uv}`.
    layers : int
        Message-passing layers on the line graph.
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden: int = 32, layers: int = 3):
        super().__init__()
        self.node_dim, self.edge_dim = node_dim, edge_dim
        self.encoder = MPNNEncoder(edge_dim + 2 * node_dim, hidden, layers, 0, "sum", "relu")
        self.score = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.score), gain=0.01)
        self.critic = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.critic), gain=1.0)

    collate = staticmethod(functools.partial(collate_obs, edge_mask=True))

    def forward(self, g: dgl.DGLGraph):
        x, e = _check_edge_graph(g, self.node_dim, self.edge_dim, "LineGraphActorCritic")
        u, v = g.edges()
        lg = dgl.line_graph(g, backtracking=False)  # node i of L(G) = edge i of G; no edge crosses graphs
        h = self.encoder(lg, torch.cat([e, x[u], x[v]], dim=-1))  # (E, hidden)
        sizes = g.batch_num_edges()
        dist = MaskedCategorical.from_graph(self.score(h).squeeze(-1), sizes, g.edata["mask"])
        graph_of = graph_ids(sizes)
        pooled = torch.zeros(g.batch_size, h.shape[1]).index_add_(0, graph_of, h) / sizes.clamp(min=1)[:, None]
        return dist, self.critic(pooled).squeeze(-1)


class _TwoStepEdgeDistribution:
    """pi(uv) = pi(u) pi(v | u); the second factor needs a forward pass conditioned on u, run on demand."""

    def __init__(self, policy: "TwoStepEdgeActorCritic", g: dgl.DGLGraph, source: MaskedCategorical):
        self.policy, self.g, self.source = policy, g, source
        u, _ = g.edges()
        self.edge_offsets = torch.cumsum(g.batch_num_edges(), 0) - g.batch_num_edges()  # (B,)
        self.node_offsets = torch.cumsum(g.batch_num_nodes(), 0) - g.batch_num_nodes()
        self.edge_src = u  # (E,) global source node of every edge

    def _destination(self, src_local: torch.Tensor) -> MaskedCategorical:
        cached = getattr(self, "_cache", None)  # sample() then log_prob() of the same edges: one second pass, not two
        if cached is not None and torch.equal(cached[0], src_local):
            return cached[1]
        dest = self.policy.destination(self.g, src_local + self.node_offsets)
        self._cache = (src_local, dest)
        return dest

    def _edge_source(self, actions: torch.Tensor) -> torch.Tensor:
        return self.edge_src[actions + self.edge_offsets] - self.node_offsets  # local source of each chosen edge

    def sample(self) -> torch.Tensor:
        src = self.source.sample()
        return self._destination(src).sample()

    @property
    def mode(self) -> torch.Tensor:
        return self._destination(self.source.mode).mode

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        src = self._edge_source(actions)
        self._last = self._destination(src)
        return self.source.log_prob(src) + self._last.log_prob(actions)

    def entropy(self) -> torch.Tensor:
        """:math:`H(u) + H(v \\mid u)` at the source of the last ``log_prob`` call (a one-sample estimate of the second term), else :math:`H(u)`."""
        last = getattr(self, "_last", None)
        return self.source.entropy() + (last.entropy() if last is not None else 0.0)


class TwoStepEdgeActorCritic(nn.Module):
    r"""Edges as actions chosen as two node selections (see the module docstring).

    Pass 1: :math:`z = \mathrm{MPNN}_1(G, x, e)`, :math:`\pi(u) \propto M^{src}_u \exp s_1(z_u)` over the
    nodes with at least one valid outgoing edge. Pass 2: :math:`z' = \mathrm{MPNN}_2(G, [x \| 1_{u}], e)`,
    :math:`\pi(v \mid u) \propto M_{uv} \exp s_2([z'_u \| z'_v \| e_{uv}])` over :math:`u`'s valid edges.
    Sampling an edge costs two forward passes; so does its log-probability. The entropy is
    :math:`H(u)` plus :math:`H(v \mid u)` at the source of the last evaluated action.

    Parameters
    ----------
    node_dim, edge_dim : int
        Node and edge feature sizes without the edge mask column.
    hidden : int
        Embedding size.
    layers : int
        Message-passing layers of each pass.
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden: int = 32, layers: int = 3):
        super().__init__()
        self.node_dim, self.edge_dim = node_dim, edge_dim
        self.first = MPNNEncoder(node_dim, hidden, layers, edge_dim, "sum", "relu")
        self.second = MPNNEncoder(node_dim + 1, hidden, layers, edge_dim, "sum", "relu")
        self.source_score = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        self.dest_score = layer_init(MLP(2 * hidden + edge_dim, (hidden,), 1, "tanh"))
        for mlp in (self.source_score, self.dest_score):
            layer_init(_last_linear(mlp), gain=0.01)
        self.critic = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.critic), gain=1.0)

    collate = staticmethod(functools.partial(collate_obs, edge_mask=True))

    def destination(self, g: dgl.DGLGraph, src: torch.Tensor) -> MaskedCategorical:
        r""":math:`\pi(v \mid u)` over each graph's edges, given one global source node per graph, ``(B,)``."""
        x, e = g.ndata["x"], g.edata["e"]
        flag = torch.zeros(g.num_nodes(), 1)
        flag[src] = 1.0
        z = self.second(g, torch.cat([x, flag], dim=-1), e)  # (N, hidden)
        u, v = g.edges()
        scores = self.dest_score(torch.cat([z[u], z[v], e], dim=-1)).squeeze(-1)  # (E,)
        mask = g.edata["mask"].to(torch.bool) & (flag[u, 0] > 0.5)
        return MaskedCategorical.from_graph(scores, g.batch_num_edges(), mask)

    def forward(self, g: dgl.DGLGraph):
        x, e = _check_edge_graph(g, self.node_dim, self.edge_dim, "TwoStepEdgeActorCritic")
        z = self.first(g, x, e)  # (N, hidden)
        u, _ = g.edges()
        has_valid = torch.zeros(g.num_nodes(), dtype=torch.bool).index_fill_(0, u[g.edata["mask"].to(torch.bool)], True)
        source = MaskedCategorical.from_graph(self.source_score(z).squeeze(-1), g.batch_num_nodes(), has_valid)
        return _TwoStepEdgeDistribution(self, g, source), self.critic(readout(g, z, "mean")).squeeze(-1)
