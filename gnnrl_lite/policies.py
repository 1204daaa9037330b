r"""Actor-critic modules that PPO can train: ``policy(obs) -> (distribution, value)``.

Every policy in the book follows one small protocol, so :func:`gnnrl_lite.algos.ppo.train` works
with any of them:

- ``forward(obs)`` returns ``(dist, value)``: ``dist`` has ``sample()``, ``log_prob(a)``,
  ``entropy()`` and ``mode`` (all per batch row, shape ``(B,)``), and ``value`` has shape ``(B,)``;
- optionally ``collate(list_of_observations)`` turns raw environment observations into ``obs``
  (default: :func:`gnnrl_lite.graphs.collate_obs`);
- optionally ``observe(obs)`` updates running statistics (e.g. an observation normaliser); PPO
  calls it once per rollout step, never during updates or evaluation.

The actor :math:`\pi_\theta(a \mid s)` and critic :math:`V_\phi(s)` use separate networks, as in
the PPO paper's continuous-control setup and CleanRL.

References
----------
Schulman et al., *Proximal Policy Optimization Algorithms*, 2017.
Huang et al., *The 37 Implementation Details of Proximal Policy Optimization*, ICLR Blog Track 2022.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Independent, Normal, Uniform

import dgl

from .checks import check_choice, check_finite, check_positive_int
from .distributions import MaskedCategorical
from .graphs import collate_obs, graph_ids
from .nn import AGGREGATIONS, MLP, GatedMPNN, GraphPredictor, RunningNorm, readout

__all__ = ["layer_init", "MLPActorCritic", "GraphActorCritic", "NodeScoreActorCritic", "NeighbourActorCritic", "RandomPolicy"]


def layer_init(module: nn.Module, gain: float = float(np.sqrt(2)), bias: float = 0.0) -> nn.Module:
    """Orthogonal weights with ``gain`` and constant bias for every ``nn.Linear`` inside ``module``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain)
            nn.init.constant_(m.bias, bias)
    return module


def _last_linear(mlp: nn.Module) -> nn.Linear:
    return [m for m in mlp.modules() if isinstance(m, nn.Linear)][-1]


def _one_node_per_graph(g: dgl.DGLGraph, flags: torch.Tensor, what: str) -> torch.Tensor:
    """Global index of the single flagged node of every graph in a batch, shape ``(B,)``."""
    idx = torch.nonzero(flags > 0.5).squeeze(1)
    graph_of = graph_ids(g.batch_num_nodes())
    if idx.numel() != g.batch_size or not torch.equal(graph_of[idx], torch.arange(g.batch_size)):
        raise ValueError(f"every graph must flag exactly one {what} node")
    return idx


class MLPActorCritic(nn.Module):
    r"""MLP actor and critic on a flat observation of shape ``(B, D)``.

    Discrete action spaces give :math:`\pi(\cdot \mid s) = \mathrm{softmax}(f_\theta(s))`;
    ``Box`` action spaces give a diagonal Gaussian :math:`\mathcal{N}(\mu_\theta(s), \mathrm{diag}\,\sigma^2)`
    with a state-independent, learned :math:`\log\sigma` (initialised at 0).

    Parameters
    ----------
    obs_dim : int
        Size :math:`D` of the flat observation.
    action_space : gymnasium.spaces.Discrete or gymnasium.spaces.Box
        The (single-environment) action space.
    hidden : sequence of int
        Hidden sizes of both networks (CleanRL: ``(64, 64)``).
    activation : str
        Hidden activation (``"tanh"`` as in PPO).
    normalize_obs : bool
        Normalise the observation with a :class:`~gnnrl_lite.nn.RunningNorm` ``obs_norm`` before
        both networks, :math:`\hat s = \mathrm{clip}((s - \mu) / \sqrt{\max(\sigma^2, 10^{-2}) + 10^{-6}}, -5, 5)`
        per feature, as NerveNet and Snowflake do for their MLP baseline (variance floor included). The statistics change
        only in :meth:`observe` (PPO calls it once per rollout step); they are buffers, so they are
        saved with the parameters. Default ``False``: no normaliser, outputs as before.

    Examples
    --------
    >>> pi = MLPActorCritic(4, spaces.Discrete(2))
    >>> dist, v = pi(torch.zeros(3, 4))
    >>> dist.sample().shape, v.shape
    (torch.Size([3]), torch.Size([3]))
    """

    def __init__(self, obs_dim: int, action_space: spaces.Space, hidden: Sequence[int] = (64, 64), activation: str = "tanh",
                 normalize_obs: bool = False):
        super().__init__()
        if isinstance(obs_dim, spaces.Space):
            raise TypeError(f"obs_dim must be the size of the flat observation (an int), not a space; "
                            f"for {obs_dim} pass {obs_dim.shape[0] if getattr(obs_dim, 'shape', None) else 'its flattened size'}")
        self.obs_dim = check_positive_int(obs_dim, "obs_dim")
        self.normalize_obs = bool(normalize_obs)
        if isinstance(action_space, spaces.Discrete):
            self.continuous, out = False, int(action_space.n)
        elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            self.continuous, out = True, int(action_space.shape[0])
            self.log_std = nn.Parameter(torch.zeros(out))
        else:
            raise TypeError(f"action_space must be Discrete or a 1-D Box; got {action_space}")
        self.actor = layer_init(MLP(obs_dim, hidden, out, activation))
        layer_init(_last_linear(self.actor), gain=0.01)
        self.critic = layer_init(MLP(obs_dim, hidden, 1, activation))
        layer_init(_last_linear(self.critic), gain=1.0)
        if self.normalize_obs:  # after the networks: buffers only, so the parameters' random draws are unchanged
            self.obs_norm = RunningNorm(obs_dim, min_var=1e-2)  # NerveNet's variance floor

    def _check(self, obs: torch.Tensor) -> None:
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"observation batch must have shape (B, {self.obs_dim}); got {tuple(obs.shape)}")
        check_finite(obs, "observation")

    @torch.no_grad()
    def observe(self, obs: torch.Tensor) -> None:
        """Update the observation statistics with a batch ``(B, D)`` (a no-op unless ``normalize_obs``)."""
        if self.normalize_obs:
            self._check(obs)
            self.obs_norm.update(obs)

    def forward(self, obs: torch.Tensor):
        self._check(obs)
        if self.normalize_obs:
            obs = self.obs_norm(obs)  # \hat s: (B, D)
        value = self.critic(obs).squeeze(-1)  # V(s): (B,)
        out = self.actor(obs)  # (B, A)
        if self.continuous:
            dist = Independent(Normal(out, self.log_std.exp().expand_as(out)), 1)
        else:
            dist = Categorical(logits=out)
        return dist, value


class GraphActorCritic(nn.Module):
    r"""A GNN feature extractor for a *fixed* action set: graph observation in, one of ``A`` actions out.

    .. math::

        \pi(\cdot \mid G) = \mathrm{softmax}\big(\mathrm{GraphPredictor}_\theta(G)\big), \qquad
        V(G) = \mathrm{GraphPredictor}_\phi(G)

    Actor and critic are separate :class:`gnnrl_lite.nn.GraphPredictor` s (message passing, readout,
    MLP). With ``readout="agent"`` each graph is summarised by the embedding of the node flagged in
    feature column ``agent_col`` (the agent's own node), which has seen its neighbourhood through
    message passing.

    Parameters
    ----------
    node_dim : int
        Node feature size.
    num_actions : int
        Size of the fixed action set.
    hidden : int
        Size of node embeddings and MLP layers.
    layers : int
        Message-passing layers.
    readout : str
        ``"sum"``, ``"mean"``, ``"max"`` or ``"agent"``.
    edge_dim : int
        Edge feature size (0: none).
    agent_col : int
        Feature column flagging the agent's node (used by ``readout="agent"``).
    aggregation : str
        Message aggregation inside the encoder (``"sum"``, ``"mean"`` or ``"max"``).
    """

    READOUTS = AGGREGATIONS + ("agent",)

    def __init__(self, node_dim: int, num_actions: int, hidden: int = 64, layers: int = 2, readout: str = "mean",
                 edge_dim: int = 0, agent_col: int = 0, aggregation: str = "sum"):
        super().__init__()
        self.readout_kind = check_choice(readout, self.READOUTS, "readout")
        check_choice(aggregation, AGGREGATIONS, "aggregation")
        if readout == "agent" and not 0 <= agent_col < node_dim:
            raise ValueError(f"agent_col must index a node feature in [0, {node_dim}); got {agent_col}")
        self.node_dim, self.edge_dim, self.agent_col = node_dim, edge_dim, agent_col
        kind = "node" if readout == "agent" else readout
        self.actor = GraphPredictor(node_dim, num_actions, hidden, layers, kind, aggregation, "tanh", edge_dim)
        self.critic = GraphPredictor(node_dim, 1, hidden, layers, kind, aggregation, "tanh", edge_dim)
        layer_init(self.actor.head)
        layer_init(_last_linear(self.actor.head), gain=0.01)
        layer_init(self.critic.head)
        layer_init(_last_linear(self.critic.head), gain=1.0)

    def extra_repr(self) -> str:
        return f"readout={self.readout_kind!r}"

    def forward(self, g: dgl.DGLGraph):
        if not isinstance(g, dgl.DGLGraph):
            raise TypeError(f"GraphActorCritic expects a (batched) DGLGraph; got {type(g).__name__}")
        x = g.ndata["x"]
        if x.shape[1] != self.node_dim:
            raise ValueError(f"node features must have {self.node_dim} columns; got {x.shape[1]}")
        e = g.edata["e"] if self.edge_dim else None
        agent = _one_node_per_graph(g, x[:, self.agent_col], "agent") if self.readout_kind == "agent" else None  # (B,)
        logits = self.actor(g, x, e, agent)  # (B, A)
        value = self.critic(g, x, e, agent).squeeze(-1)  # (B,)
        return Categorical(logits=logits), value


class NodeScoreActorCritic(nn.Module):
    r"""A GNN policy that picks one node per graph ("nodes as actions"), for any graph size.

    .. math::

        h = \mathrm{GatedMPNN}(G, x), \qquad
        \pi(v \mid G) = \frac{M_v \exp(s(h_v))}{\sum_{u} M_u \exp(s(h_u))}, \qquad
        V(G) = \mathrm{MLP}\Big(\tfrac{1}{|V|}\textstyle\sum_v h_v\Big)

    Observations are ``GraphInstance`` objects whose last node-feature column is the action mask
    :math:`M` (see :mod:`gnnrl_lite.graphs`); ``collate`` batches them, so one forward pass serves
    all parallel environments. Actions are node indices local to each graph. The score :math:`s` is
    a small tanh MLP shared by all nodes.

    Parameters
    ----------
    node_dim : int
        Node feature size *without* the mask column.
    hidden : int
        Size of :math:`h_v`.
    steps : int
        Message-passing steps :math:`T` (the receptive field in hops).
    """

    def __init__(self, node_dim: int, hidden: int = 32, steps: int = 2):
        super().__init__()
        self.node_dim = node_dim
        self.encoder = GatedMPNN(node_dim, hidden, steps, aggregation="mean")
        self.score = layer_init(MLP(hidden, (hidden,), 1, "tanh"))  # s(h_v)
        layer_init(_last_linear(self.score), gain=0.01)
        self.critic = layer_init(MLP(hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.critic), gain=1.0)

    collate = staticmethod(functools.partial(collate_obs, node_mask=True))

    def forward(self, g: dgl.DGLGraph):
        if not isinstance(g, dgl.DGLGraph):
            raise TypeError(f"NodeScoreActorCritic expects a (batched) DGLGraph; got {type(g).__name__}")
        if "mask" not in g.ndata:
            raise ValueError("graph has no ndata['mask']; collate observations with node_mask=True")
        h = self.encoder(g, g.ndata["x"])  # (N, hidden)
        dist = MaskedCategorical.from_graph(self.score(h).squeeze(-1), g.batch_num_nodes(), g.ndata["mask"])
        value = self.critic(readout(g, h, "mean")).squeeze(-1)  # (B,)
        return dist, value


class NeighbourActorCritic(nn.Module):
    r"""A GNN policy whose actions are the neighbours of the agent's node ("neighbours as actions").

    .. math::

        z = \mathrm{GatedMPNN}_T(G, x), \qquad
        \pi(u \mid G) = \frac{M_u \exp s([z_v \| z_u \| z_g])}{\sum_{w} M_w \exp s([z_v \| z_w \| z_g])}, \qquad
        V(G) = \mathrm{MLP}([z_v \| z_g])

    where :math:`v` is the agent's node, :math:`g` the goal node, :math:`M_u = 1` for the valid
    next nodes (the agent's neighbours, given as the mask column of the observation) and :math:`s`
    a small MLP shared by all nodes. The propagation steps :math:`T` share their weights, so
    information travels :math:`T` hops: choose :math:`T` at least the distance the agent must see.

    Parameters
    ----------
    node_dim : int
        Node feature size without the mask column.
    hidden : int
        Size of :math:`z`.
    steps : int
        Propagation steps :math:`T`.
    agent_col, goal_col : int
        Feature columns that flag the agent's node and the goal node (one per graph each).
    aggregation : str
        Neighbour aggregation of the GatedMPNN: ``"sum"``, ``"mean"`` or ``"max"``.
    """

    def __init__(self, node_dim: int, hidden: int = 32, steps: int = 8, agent_col: int = 0, goal_col: int = 1,
                 aggregation: str = "mean"):
        super().__init__()
        for name, col in (("agent_col", agent_col), ("goal_col", goal_col)):
            if not 0 <= col < node_dim:
                raise ValueError(f"{name} must index a node feature in [0, {node_dim}); got {col}")
        self.node_dim, self.agent_col, self.goal_col = node_dim, agent_col, goal_col
        self.encoder = GatedMPNN(node_dim, hidden, steps, aggregation=aggregation)
        self.score = layer_init(MLP(3 * hidden, (hidden,), 1, "tanh"))  # s([z_v || z_u || z_g])
        layer_init(_last_linear(self.score), gain=0.01)
        self.critic = layer_init(MLP(2 * hidden, (hidden,), 1, "tanh"))
        layer_init(_last_linear(self.critic), gain=1.0)

    collate = staticmethod(functools.partial(collate_obs, node_mask=True))

    def forward(self, g: dgl.DGLGraph):
        if not isinstance(g, dgl.DGLGraph) or "mask" not in g.ndata:
            raise ValueError("NeighbourActorCritic expects a batched DGLGraph with ndata['mask'] (collate with node_mask=True)")
        x = g.ndata["x"]
        if x.shape[1] != self.node_dim:
            raise ValueError(f"node features must have {self.node_dim} columns (without the mask); got {x.shape[1]}")
        z = self.encoder(g, x)  # (N, hidden)
        agent = _one_node_per_graph(g, x[:, self.agent_col], "agent")  # (B,)
        goal = _one_node_per_graph(g, x[:, self.goal_col], "goal")
        graph_of = graph_ids(g.batch_num_nodes())  # (N,)
        z_v, z_g = z[agent], z[goal]  # (B, hidden)
        scores = self.score(torch.cat([z_v[graph_of], z, z_g[graph_of]], dim=-1)).squeeze(-1)  # (N,)
        dist = MaskedCategorical.from_graph(scores, g.batch_num_nodes(), g.ndata["mask"])
        value = self.critic(torch.cat([z_v, z_g], dim=-1)).squeeze(-1)  # (B,)
        return dist, value


class RandomPolicy(nn.Module):
    r"""The uniform random baseline in the same protocol: :math:`\pi(a \mid s) = 1 / |\mathcal{A}(s)|`.

    With ``num_actions`` set, actions are a fixed set of that size and observations may be tensors
    ``(B, ...)`` or batched graphs. With ``num_actions=None``, actions are nodes and the valid ones
    are given by the observation's mask column (``collate`` with ``node_mask=True``), e.g. a random
    walk over the neighbours in :class:`gnnrl_lite.envs.RoomsEnv`; with ``over="edges"`` actions are
    edges and the mask is the last edge feature column (e.g. :class:`gnnrl_lite.envs.SpanningTreeEnv`).
    With a bounded ``gymnasium.spaces.Box`` instead of ``num_actions``, actions are continuous and
    uniform over the box, :math:`a \sim \mathcal{U}[\text{low}, \text{high}]` (e.g. a random
    controller for :class:`gnnrl_lite.envs.CentipedeEnv`), for observations ``(B, ...)``.
    The value is always 0. ``mode`` of a uniform distribution is its first valid action (and
    undefined on a box), so evaluate it with sampling.
    """

    def __init__(self, num_actions: int | spaces.Box | None = None, over: str = "nodes"):
        super().__init__()
        self.box = num_actions if isinstance(num_actions, spaces.Box) else None
        if self.box is not None:
            if not (np.isfinite(self.box.low).all() and np.isfinite(self.box.high).all() and (self.box.low < self.box.high).all()):
                raise ValueError(f"a Box action space must be bounded with low < high; got {self.box}")
            self.register_buffer("low", torch.as_tensor(self.box.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(self.box.high, dtype=torch.float32))
        elif num_actions is not None and (isinstance(num_actions, bool) or not isinstance(num_actions, (int, np.integer)) or num_actions < 1):
            raise ValueError(f"num_actions must be a positive integer, a bounded Box or None; got {num_actions!r}")
        self.num_actions, self.over = num_actions, check_choice(over, ("nodes", "edges"), "over")
        if num_actions is None:
            self.collate = functools.partial(collate_obs, node_mask=over == "nodes", edge_mask=over == "edges")

    def forward(self, obs):
        if self.box is not None:
            low = self.low.expand(len(obs), *self.low.shape)  # (B, *shape)
            return Independent(Uniform(low, self.high.expand_as(low)), self.low.ndim), torch.zeros(len(obs))
        if self.num_actions is None:
            data = (obs.ndata if self.over == "nodes" else obs.edata) if isinstance(obs, dgl.DGLGraph) else {}
            if not isinstance(obs, dgl.DGLGraph) or "mask" not in data:
                raise ValueError(f"RandomPolicy over {self.over} expects a batched DGLGraph with a {self.over} mask "
                                 f"(collate with {'node' if self.over == 'nodes' else 'edge'}_mask=True)")
            n = obs.batch_num_nodes() if self.over == "nodes" else obs.batch_num_edges()
            dist = MaskedCategorical.from_graph(torch.zeros(int(n.sum())), n, data["mask"])
            return dist, torch.zeros(obs.batch_size)
        batch = obs.batch_size if isinstance(obs, dgl.DGLGraph) else len(obs)
        return Categorical(logits=torch.zeros(batch, self.num_actions)), torch.zeros(batch)
