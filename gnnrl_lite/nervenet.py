r"""NerveNet: one graph network controls Centipede-n of every size; Snowflake: freeze parts of it.

NerveNet (Wang et al., 2018) reads the agent's body as a graph (:func:`~gnnrl_lite.envs.centipede.morphology_graph`:
a root node and one node per actuated joint) and computes every actuator's action mean at its own
joint node, with weights shared by all nodes of a type. The same weights therefore run on a
centipede with any number of legs. :class:`NerveNetActorCritic` ports the policy network of the
authors' code (``network/gated_graph_policy_network.py``, ``util/nn_cells.py``) to DGL; it takes
the **flat** observation batch ``(B, 21n + 13)``, so PPO and vector envs need nothing special.

With :math:`o_v` node :math:`v`'s observation (:func:`~gnnrl_lite.envs.centipede.split_observation`:
17 numbers for the root, 8 for a joint), :math:`\tau(v)` its type (one of the six of
:data:`~gnnrl_lite.envs.centipede.NODE_TYPES`) and :math:`\kappa(v) \in \{\text{root}, \text{joint}\}`
its kind:

.. math::

    h_v^0 &= \big[\, E_{\tau(v)} \,\big\|\, \tanh(W^{in}_{\kappa(v)} o_v + b^{in}_{\kappa(v)}) \,\big]
        && F_{in}\text{: type embedding and input encoder} \\
    m_{u \to v}^t &= M(h_u^t) && \text{message MLP on the sender only} \\
    \bar m_v^t &= \frac{1}{|\mathcal{N}(v)|} \sum_{u \in \mathcal{N}(v)} m_{u \to v}^t
        && \text{mean aggregation} \\
    h_v^{t+1} &= \mathrm{GRU}_{\kappa(v)}\big(\bar m_v^t, h_v^t\big), \quad t = 0, \dots, T - 1
        && U\text{: one GRU per kind, tied over } t \\
    \mu_j &= F_{out}\big(h_{\nu(j)}^T\big), \qquad
    \pi(a \mid s) = \mathcal{N}\big(\mu, \mathrm{diag}\, e^{2 \log \sigma}\big)
        && \text{one decoder for all joints}

where :math:`E` is a trainable ``(6, 32)`` table, :math:`M` a 64-64-64 MLP with tanh after every
layer, :math:`F_{out}` a 64-64-1 MLP (tanh, tanh, linear), :math:`\nu(j)` the node of actuator
:math:`j` (:func:`~gnnrl_lite.envs.centipede.actuator_to_node`) and :math:`\log\sigma` a
state-independent vector with one entry per actuator. The GRU (:class:`NerveNetGRUCell`) is

.. math::

    z = \sigma(W_z \bar m + U_z h + b_z), \quad
    r = \sigma(W_r \bar m + U_r h + b_r), \quad
    \tilde h = \tanh\big(W_h \bar m + U_h (r \odot h) + b_h\big), \quad
    h' = z \odot h + (1 - z) \odot \tilde h .

The critic :math:`V(s)` is a separate 64-64 tanh MLP on the flat observation (NerveNet's
``use_gnn_as_value=0``, Snowflake's ``fixedsizenet``); ``critic="graph"`` gives a size-independent
one instead (below).

Shapes: observations ``(B, 21n + 13)``; node states ``(B, 3n - 1, H)`` with ``H = hidden = 64``
(node 0 the root, node ``j + 1`` the ``j``-th joint); the graph of the whole batch is one batched
``DGLGraph`` of ``B (3n - 1)`` nodes and ``2 B (3n - 2)`` edges, built once per ``(n, B)`` and
cached; action means ``(B, 3n - 2)`` in actuator order.

**Snowflake** (Blake et al., 2021) found that NerveNet's updates grow unstable as the agent grows
and that freezing the encoder, decoder and message function at their random initial values,
:math:`\zeta = \{F_{in}, F_{out}, M\}`, lets it match an MLP on large centipedes and transfer
better. :func:`freeze` does this: the parts keep their values and leave the optimiser
(``requires_grad=False``), while gradients still flow *through* them to the parts before them
(the GRU receives gradients through the frozen decoder, the type embedding through the frozen
message MLP).

**The MLP baseline** is :class:`gnnrl_lite.policies.MLPActorCritic` with ``hidden=(64, 64)`` and
tanh: separate 64-64 tanh actor and critic and a state-independent :math:`\log\sigma`
initialised at 0, as in the papers (only the initialiser differs, below).

Deviations from the authors' code, and why
------------------------------------------
- *Transfer to other sizes, log-std.* NerveNet's :math:`\log\sigma` has one entry per actuator,
  so it is sized for the training centipede; its ``structure_mapper.py`` builds a new one for a
  new size by copying the entries of joints present in both (by name) and filling the others with
  the mean over the source joints of the same type. We apply that rule on the fly
  (:meth:`NerveNetActorCritic.log_std_for`), so one module instance runs on every size.
- *Transfer to other sizes, critic.* The flat MLP critic only fits the training size. On another
  size :meth:`NerveNetActorCritic.forward` returns NaN values when gradients are off (evaluation,
  rollouts) and raises ``ValueError`` when they are on (a training update), so zero-shot
  evaluation works and fine-tuning with that critic fails loudly. ``critic="graph"`` trains on
  any size: a second, separate NerveNet network (its own encoders, embedding, message MLP and
  GRUs) on the morphology graph with the root also linked to every joint, with value
  :math:`V(s) = \mathrm{MLP}(h_{root}^T)` (64-64-1). This follows NerveNet's GNN value
  network (``gated_graph_baseline_network.py`` with ``use_gnn_as_value=1``, which switches the
  root connection to "all"); the papers' runs used the flat MLP critic.
- *MLP initialiser.* The papers initialise their MLPs with "normc" (Gaussian rows rescaled to
  norm 1; 0.01 for the MLP policy's output layer). Our flat critic does too (norm 1, zero biases);
  :class:`~gnnrl_lite.policies.MLPActorCritic` keeps the package's orthogonal initialiser
  (gain :math:`\sqrt 2`, 0.01 on the actor output, 1 on the critic output).
- *Observation normalisation.* NerveNet and Snowflake normalise the flat observation per index:
  running mean and variance over all batches so far, the variance floored at :math:`10^{-2}`,
  scale :math:`\sqrt{\sigma^2 + 10^{-6}}`, clip at 5 (``util/ob_normalizer.py``,
  ``update_running_means`` in ``agent/rollout_master_agent.py``). The statistics are thus sized
  for the training centipede, and for transfer ``structure_mapper.py`` maps them by joint name
  (new joints: the mean over the source joints of the same type). ``normalize_obs=True`` keeps
  one :class:`~gnnrl_lite.nn.RunningNorm` per node *type* instead, pooled over all nodes of that
  type and applied after :func:`~gnnrl_lite.envs.centipede.split_observation`, so the statistics
  have no size and transfer needs no mapping (details under :class:`NerveNetActorCritic`). The
  flat MLP critic, which only fits its size anyway, normalises its input per index, as in the
  papers. NerveNet updates the statistics once per batch and stores normalised observations;
  PPO here updates them every rollout step through :meth:`NerveNetActorCritic.observe` and
  re-normalises the stored raw observations in the update (see :mod:`gnnrl_lite.algos.ppo`).
- *Initialisation.* Orthogonal gain 1 weights, biases 0.01 (MLPs) and 0 (GRUs), the embedding
  table drawn from :math:`\mathcal N(0, 1)` with every column rescaled to unit norm, as in the code.
  The TF code passes the same op seed (1234) to every weight initialiser (``util/nn_cells.py``);
  we draw every weight independently.
- *GRU parameter layout.* The TF cell has six matrices ``w_x{i,r,u}``, ``w_h{i,r,u}`` and three
  biases; :class:`NerveNetGRUCell` stacks them into ``weight_m`` ``(3H, D)``, ``weight_h``
  ``(3H, H)`` and ``bias`` ``(3H,)`` (row blocks :math:`z, r, h`) so a step needs three matrix
  products instead of six; each ``H x H`` block is initialised orthogonal separately, as there.
- *Parts frozen by default* are the encoders, the message MLP and the decoder; the type
  embedding, the GRUs, :math:`\log\sigma` and the critic keep training. Whether Snowflake's
  :math:`F_{in}` includes the embedding table is not stated; under the code's mechanism (freeze
  every variable whose name contains ``MLP_embedding_node_type``) the table
  (``embedding_HALF``) is not matched, so we leave it trainable. The part names refer to the
  actor; with ``critic="graph"``, the code's name matching would also catch the value network's
  same-named parts, whereas :func:`freeze` leaves the critic alone unless ``"critic"`` is given.
- *Batching.* The TF code gathers and scatters node states by type; we keep them as a
  ``(B, 3n - 1, H)`` tensor (root at index 0, so "per kind" is a slice) and pass messages with
  DGL's fused ``copy_u_sum`` on one batched graph, times a cached inverse in-degree (the mean;
  about 3x faster than ``update_all`` with ``fn.mean``, which recounts degrees every call).

Used in Chapter 5 (Centipede-n). To reuse: copy this file, ``envs/centipede.py``, ``nn.py`` and
``checks.py``; needs torch, dgl.

References
----------
Wang, Liao, Ba & Fidler, *NerveNet: Learning Structured Policy with Graph Neural Networks*, ICLR 2018
(code: ``WilsonWangTHU/NerveNet``).
Blake, Kurin, Igl & Whiteson, *Snowflake: Scaling GNNs to High-Dimensional Continuous Control via
Parameter Freezing*, NeurIPS 2021 (code: ``thecharlieblake/snowflake``).
Cho et al., *Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
Translation*, EMNLP 2014 (the GRU with the reset gate before the matrix product).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Independent, Normal

import dgl

from .checks import check_choice, check_finite, check_positive_int
from .envs.centipede import JOINT_DIM, NODE_TYPES, ROOT_DIM, actuator_names, actuator_to_node, node_types, split_observation, tree_edges
from .nn import MLP, RunningNorm

__all__ = ["FREEZABLE_PARTS", "SNOWFLAKE_PARTS", "centipede_legs", "NerveNetGRUCell", "NerveNetActorCritic", "freeze"]

FREEZABLE_PARTS = {
    "encoder": "gnn.encoder",
    "embedding": "gnn.embedding",
    "message": "gnn.message",
    "update": "gnn.update",
    "decoder": "decoder",
    "log_std": "log_std",
    "critic": "critic",
}
"""Part names accepted by :func:`freeze` and the parameter-name prefix of each in :class:`NerveNetActorCritic`:
:math:`F_{in}` (``encoder``), the type table :math:`E` (``embedding``), :math:`M` (``message``),
the GRUs :math:`U` (``update``), :math:`F_{out}` (``decoder``), :math:`\\log\\sigma` and the whole critic."""
SNOWFLAKE_PARTS = ("encoder", "message", "decoder")
"""Snowflake's frozen set :math:`\\zeta = \\{F_{in}, M, F_{out}\\}`, the default of :func:`freeze`."""


def centipede_legs(obs_dim: int) -> int:
    """The number of legs ``n`` of a Centipede observation of width ``obs_dim = 21n + 13``.

    Raises ``ValueError`` unless ``n`` is an even integer of at least 4.

    >>> centipede_legs(139)
    6
    """
    n, rest = divmod(int(obs_dim) - 13, 21)
    if rest or n < 4 or n % 2:
        raise ValueError(f"a Centipede-n observation has width 21n + 13 with n even and >= 4 (97, 139, 181, ...); got {obs_dim}")
    return n


@lru_cache(maxsize=64)
def _batched_graph(n: int, batch: int, root_to_all: bool, device: str) -> tuple[dgl.DGLGraph, torch.Tensor]:
    """``batch`` copies of Centipede-``n``'s graph as one DGLGraph, and ``1 / in-degree`` ``(B (3n - 1), 1)``.

    Graph ``b`` owns nodes ``b (3n - 1), ..., (b + 1)(3n - 1) - 1``, in the order of
    :func:`~gnnrl_lite.envs.centipede.morphology_graph`. Cached: PPO meets only a few batch sizes.
    """
    edges = tree_edges(n)  # (3n - 2, 2), (parent, child)
    if root_to_all:  # NerveNet's value network links the root to every joint ("Ra")
        extra = np.setdiff1d(np.arange(1, 3 * n - 1), edges[edges[:, 0] == 0, 1])
        edges = np.concatenate([edges, np.stack([np.zeros_like(extra), extra], axis=1)])
    src = np.concatenate([edges[:, 0], edges[:, 1]])  # both directions, no self-loops
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    offsets = (3 * n - 1) * np.arange(batch)[:, None]  # (B, 1)
    src, dst = (torch.as_tensor((x[None, :] + offsets).reshape(-1)) for x in (src, dst))
    g = dgl.graph((src, dst), num_nodes=batch * (3 * n - 1), device=torch.device(device))
    return g, 1.0 / g.in_degrees().to(torch.float32).unsqueeze(1)  # every node has a neighbour


@lru_cache(maxsize=None)
def _node_indices(n: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Node types ``(3n - 1,)`` and, for every actuator, its joint's row among the joint nodes ``(3n - 2,)``."""
    dev = torch.device(device)
    return torch.as_tensor(node_types(n), device=dev), torch.as_tensor(actuator_to_node(n) - 1, device=dev)


@lru_cache(maxsize=None)
def _log_std_map(n_src: int, n_dst: int) -> torch.Tensor:
    """Matrix ``(3 n_dst - 2, 3 n_src - 2)`` taking a per-actuator vector of Centipede-``n_src`` to Centipede-``n_dst``.

    Row ``j`` copies the source entry of the same joint name if it exists, else averages the
    source entries of the same type (NerveNet's ``structure_mapper.py``).
    """
    src = actuator_names(n_src)
    index = {name: i for i, name in enumerate(src)}
    kind = np.array([name.rsplit("_", 1)[0] for name in src])
    out = torch.zeros(3 * n_dst - 2, len(src))
    for j, name in enumerate(actuator_names(n_dst)):
        if name in index:
            out[j, index[name]] = 1.0
        else:
            same = np.flatnonzero(kind == name.rsplit("_", 1)[0])
            out[j, same] = 1.0 / len(same)
    return out


@lru_cache(maxsize=None)
def _joint_groups(n: int, device: str) -> tuple[tuple[str, torch.Tensor], ...]:
    """``(type name, rows among the joint nodes)`` for each joint type of Centipede-``n``, in :data:`NODE_TYPES` order."""
    types = node_types(n)[1:]  # (3n - 2,): the joint nodes' types
    return tuple((NODE_TYPES[t], torch.as_tensor(np.flatnonzero(types == t), device=torch.device(device)))
                 for t in range(1, len(NODE_TYPES)) if (types == t).any())


def _normc_(linear: nn.Linear, std: float = 1.0) -> nn.Linear:
    """The papers' "normc" initialiser: Gaussian weights, every unit's input weights rescaled to norm ``std``; zero bias."""
    with torch.no_grad():
        w = torch.randn_like(linear.weight)  # (out, in)
        linear.weight.copy_(w * std / w.norm(dim=1, keepdim=True))
        linear.bias.zero_()
    return linear


def _orthogonal_mlp_(mlp: nn.Module, bias: float = 0.01) -> nn.Module:
    for m in mlp.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, 1.0)
            nn.init.constant_(m.bias, bias)
    return mlp


class NerveNetGRUCell(nn.Module):
    r"""NerveNet's GRU update: the reset gate multiplies the state *before* the recurrent product.

    .. math::

        z = \sigma(W_z \bar m + U_z h + b_z), \quad
        r = \sigma(W_r \bar m + U_r h + b_r), \quad
        \tilde h = \tanh\big(W_h \bar m + U_h (r \odot h) + b_h\big), \quad
        h' = z \odot h + (1 - z) \odot \tilde h

    where :math:`\bar m` is the aggregated message and :math:`h` the node state.

    How it differs from :class:`torch.nn.GRUCell`: PyTorch (like cuDNN) computes
    :math:`\tilde h = \tanh(W_h \bar m + b_{ih} + r \odot (U_h h + b_{hh}))`, the reset gate
    *after* the product, so that :math:`U_z h, U_r h, U_h h` come from one matrix product with the
    stacked :math:`[U_z; U_r; U_h]`. Here :math:`r` first selects which components of :math:`h`
    enter :math:`U_h` (Cho et al., 2014, and NerveNet's ``util/nn_cells.py``), which needs a second
    product with :math:`U_h` after the gates. The two agree when :math:`U_h` is diagonal and
    :math:`b_{hh} = 0`; in general they are different functions, so we port the original. The
    update gate has PyTorch's convention (:math:`z = 1` keeps the old state); there is one bias per
    gate.

    Parameters
    ----------
    input_dim : int
        Size of :math:`\bar m`, :math:`D`.
    hidden_dim : int
        Size of :math:`h`, :math:`H`.

    Notes
    -----
    Parameters: ``weight_m`` ``(3H, D)`` stacks :math:`W_z, W_r, W_h`; ``weight_h`` ``(3H, H)``
    stacks :math:`U_z, U_r, U_h`; ``bias`` ``(3H,)`` stacks :math:`b_z, b_r, b_h`. Every
    ``H``-row block is orthogonal at initialisation, biases are 0. Shapes: ``forward(m, h)`` takes
    ``(..., D)`` and ``(..., H)`` and returns ``(..., H)``.

    Examples
    --------
    >>> cell = NerveNetGRUCell(4, 8)
    >>> cell(torch.zeros(5, 4), torch.zeros(5, 8)).shape
    torch.Size([5, 8])
    """

    def __init__(self, input_dim: int, hidden_dim: int):
        super().__init__()
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.weight_m = nn.Parameter(torch.empty(3 * hidden_dim, input_dim))  # [W_z; W_r; W_h]
        self.weight_h = nn.Parameter(torch.empty(3 * hidden_dim, hidden_dim))  # [U_z; U_r; U_h]
        self.bias = nn.Parameter(torch.empty(3 * hidden_dim))  # [b_z; b_r; b_h]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        H = self.hidden_dim
        with torch.no_grad():
            for w in (self.weight_m, self.weight_h):
                for k in range(3):
                    nn.init.orthogonal_(w[k * H:(k + 1) * H], 1.0)
            self.bias.zero_()

    def extra_repr(self) -> str:
        return f"{self.input_dim}, {self.hidden_dim}"

    def forward(self, m: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        if m.shape[-1] != self.input_dim or h.shape[-1] != self.hidden_dim or m.shape[:-1] != h.shape[:-1]:
            raise ValueError(f"NerveNetGRUCell expects m (..., {self.input_dim}) and h (..., {self.hidden_dim}) "
                             f"with the same leading shape; got {tuple(m.shape)} and {tuple(h.shape)}")
        H = self.hidden_dim
        u_zr, u_h = self.weight_h.split([2 * H, H])  # split, not slicing: its backward is one cat, not a zero-fill per slice
        m_z, m_r, m_h = F.linear(m, self.weight_m, self.bias).split(H, dim=-1)  # W m + b: (..., H) each
        h_z, h_r = F.linear(h, u_zr).split(H, dim=-1)  # U_z h, U_r h
        z = torch.sigmoid(m_z + h_z)
        r = torch.sigmoid(m_r + h_r)
        h_tilde = torch.tanh(m_h + F.linear(r * h, u_h))  # reset before U_h
        return z * h + (1 - z) * h_tilde


class _Propagation(nn.Module):
    """NerveNet's trunk: F_in (type embedding + per-kind encoders), then T tied steps of M, mean and U."""

    def __init__(self, hidden: int, steps: int, embed_dim: int, message_hidden: Sequence[int], root_to_all: bool):
        super().__init__()
        self.hidden, self.steps, self.root_to_all = hidden, steps, root_to_all
        self.embedding = nn.Embedding(len(NODE_TYPES), embed_dim)  # E: (6, embed_dim)
        self.encoder = nn.ModuleDict({  # F_in, one single-layer tanh encoder per kind
            "root": MLP(ROOT_DIM, (), hidden - embed_dim, output_activation="tanh"),
            "joint": MLP(JOINT_DIM, (), hidden - embed_dim, output_activation="tanh"),
        })
        self.message = MLP(hidden, tuple(message_hidden), hidden, "tanh", "tanh")  # M, tanh after every layer
        self.update = nn.ModuleDict({"root": NerveNetGRUCell(hidden, hidden), "joint": NerveNetGRUCell(hidden, hidden)})  # U
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            e = torch.randn_like(self.embedding.weight)
            self.embedding.weight.copy_(e / e.norm(dim=0, keepdim=True))  # unit-norm columns
        _orthogonal_mlp_(self.encoder)
        _orthogonal_mlp_(self.message)
        for cell in self.update.values():
            cell.reset_parameters()

    def forward(self, root_obs: torch.Tensor, joint_obs: torch.Tensor, n: int) -> torch.Tensor:
        B, N = root_obs.shape[0], 3 * n - 1
        types = _node_indices(n, str(root_obs.device))[0]  # (N,)
        x = torch.cat([self.encoder["root"](root_obs).unsqueeze(1), self.encoder["joint"](joint_obs)], dim=1)  # (B, N, H - E)
        h = torch.cat([self.embedding(types).expand(B, N, -1), x], dim=-1)  # h^0: (B, N, H)
        g, inv_degree = _batched_graph(n, B, self.root_to_all, str(root_obs.device))
        for _ in range(self.steps):  # weights tied over the T steps
            msg = self.message(h).reshape(B * N, self.hidden)  # m_{u->v} = M(h_u), computed once per sender
            m_bar = (dgl.ops.copy_u_sum(g, msg) * inv_degree).reshape(B, N, self.hidden)  # mean over in-edges: (B, N, H)
            (m_root, m_joint), (h_root, h_joint) = m_bar.split([1, N - 1], dim=1), h.split([1, N - 1], dim=1)
            h = torch.cat([self.update["root"](m_root, h_root),  # GRU_root
                           self.update["joint"](m_joint, h_joint)], dim=1)  # GRU_joint; h^{t+1}: (B, N, H)
        return h


class _GraphCritic(nn.Module):
    """Size-independent value: a separate NerveNet trunk (root linked to all joints) and an MLP on the root's state."""

    def __init__(self, hidden: int, steps: int, embed_dim: int, message_hidden: Sequence[int], head_hidden: Sequence[int]):
        super().__init__()
        self.gnn = _Propagation(hidden, steps, embed_dim, message_hidden, root_to_all=True)
        self.head = _orthogonal_mlp_(MLP(hidden, tuple(head_hidden), 1, "tanh"))

    def forward(self, root_obs: torch.Tensor, joint_obs: torch.Tensor, n: int) -> torch.Tensor:
        h = self.gnn(root_obs, joint_obs, n)  # (B, N, H)
        return self.head(h[:, 0]).squeeze(-1)  # V(s) = MLP(h_root^T): (B,)


class NerveNetActorCritic(nn.Module):
    r"""NerveNet's policy for Centipede-n on flat observations, usable on every size; see the module docstring.

    .. math::

        \mu_j(s) = F_{out}\big(h_{\nu(j)}^T\big), \qquad
        \pi(a \mid s) = \mathcal{N}\big(\mu(s), \mathrm{diag}\, e^{2 \log \sigma}\big), \qquad
        V(s) = \mathrm{MLP}_\phi(s)

    Parameters
    ----------
    n : int
        Legs of the training centipede (even, at least 4): sizes the per-actuator
        :math:`\log\sigma` (``3n - 2`` entries) and the flat critic (``21n + 13`` inputs).
    hidden : int
        Size :math:`H` of the node states :math:`h_v^t` (NerveNet: 64).
    steps : int
        Propagation steps :math:`T` (NerveNet: 4).
    embed_dim : int, optional
        Size of the type embedding :math:`E_\tau`, the rest of :math:`h_v^0` coming from the
        encoder; default ``hidden // 2`` (NerveNet and Snowflake: 32 of 64).
    message_hidden : sequence of int
        Hidden sizes of the message MLP :math:`M` (output size ``hidden``; NerveNet: ``(64, 64)``).
    decoder_hidden : sequence of int
        Hidden sizes of the decoder :math:`F_{out}` (output size 1; NerveNet: ``(64, 64)``).
    critic : str
        ``"mlp"`` (the papers: a tanh MLP on the flat observation of Centipede-``n``) or
        ``"graph"`` (a separate NerveNet network whose root's final state gives the value; works
        on every size).
    critic_hidden : sequence of int
        Hidden sizes of the critic's MLP (the whole critic for ``"mlp"``, the head on
        :math:`h_{root}^T` for ``"graph"``).
    log_std_init : float
        Initial :math:`\log\sigma` of every actuator (NerveNet: 0).
    normalize_obs : bool
        Normalise each node's observation :math:`o_v` before the encoders,
        :math:`\hat o_v = \mathrm{clip}\big((o_v - \mu_{\tau(v)}) / \sqrt{\max(\sigma^2_{\tau(v)}, 10^{-2}) + 10^{-6}}, -5, 5\big)`,
        with running statistics per node type :math:`\tau(v)` (``obs_norm[type]``, a
        :class:`~gnnrl_lite.nn.RunningNorm` of 17 features for the root and of 8 for each of the
        five joint types, pooled over the joints of that type and over the batch). The graph critic
        reads the same :math:`\hat o_v`; the flat MLP critic normalises the flat observation with
        its own per-index ``critic_obs_norm`` (sized for Centipede-``n``, as in the papers).
        The statistics change only in :meth:`observe`, which PPO calls once per rollout step.
        Default ``False``: no normaliser, outputs as before.

    Notes
    -----
    *Why per node type.* NerveNet normalised per flat index and, to transfer, mapped the
    statistics by joint name, giving a new joint the mean statistics of the source joints of its
    type. Pooling per type is the size-free version of that rule: every Centipede-``m`` (even
    ``m >= 4``) has the same six types, so statistics gathered on one size apply unchanged to
    another. Pooling per *kind* (root vs. joint) would be coarser than NerveNet: the joint
    features mean different things per type. Ankles live in :math:`[30^\circ, 100^\circ]`
    (mean angle about 1.1 rad under random actions on Centipede-6) while hips and body joints
    swing about 0, and only the ankles' bodies (the feet) touch the ground, so a pooled mean
    would leave ankle angles off-centre and a pooled variance would mix the types' spreads.

    ``forward(obs)`` takes ``(B, 21m + 13)`` for any even ``m >= 4`` (inferred from the width) and
    returns ``(dist, value)``: an ``Independent(Normal)`` over ``(B, 3m - 2)`` actions in
    actuator order and values ``(B,)``. With ``critic="mlp"`` and ``m != n`` the values are NaN
    under ``torch.no_grad()`` (enough to evaluate zero-shot) and a ``ValueError`` otherwise.
    Parameters are grouped in :data:`FREEZABLE_PARTS` for :func:`freeze`.

    Examples
    --------
    >>> pi = NerveNetActorCritic(6)
    >>> dist, value = pi(torch.zeros(8, 139))
    >>> dist.sample().shape, value.shape
    (torch.Size([8, 16]), torch.Size([8]))
    >>> pi.distribution(torch.zeros(2, 181)).mean.shape  # the same weights on Centipede-8
    torch.Size([2, 22])
    """

    CRITICS = ("mlp", "graph")
    PARTS = FREEZABLE_PARTS

    def __init__(self, n: int, hidden: int = 64, steps: int = 4, *, embed_dim: int | None = None,
                 message_hidden: Sequence[int] = (64, 64), decoder_hidden: Sequence[int] = (64, 64), critic: str = "mlp",
                 critic_hidden: Sequence[int] = (64, 64), log_std_init: float = 0.0, normalize_obs: bool = False):
        super().__init__()
        self.n = check_positive_int(n, "n (the number of legs)")
        if self.n < 4 or self.n % 2:
            raise ValueError(f"n (the number of legs) must be even and at least 4; got {n}")
        self.hidden = check_positive_int(hidden, "hidden")
        self.steps = check_positive_int(steps, "steps")
        self.embed_dim = hidden // 2 if embed_dim is None else check_positive_int(embed_dim, "embed_dim")
        if not self.embed_dim < hidden:
            raise ValueError(f"embed_dim must be smaller than hidden ({hidden}), which also holds the encoder's output; got {self.embed_dim}")
        self.critic_kind = check_choice(critic, self.CRITICS, "critic")
        self.gnn = _Propagation(hidden, steps, self.embed_dim, message_hidden, root_to_all=False)  # F_in, M, U
        self.decoder = _orthogonal_mlp_(MLP(hidden, tuple(decoder_hidden), 1, "tanh"))  # F_out, shared by all joints
        self.log_std = nn.Parameter(torch.full((3 * self.n - 2,), float(log_std_init)))  # log sigma, actuator order
        if critic == "mlp":
            self.critic = MLP(21 * self.n + 13, tuple(critic_hidden), 1, "tanh")
            for m in self.critic.modules():
                if isinstance(m, nn.Linear):
                    _normc_(m, 1.0)
        else:
            self.critic = _GraphCritic(hidden, steps, self.embed_dim, message_hidden, critic_hidden)
        self.normalize_obs = bool(normalize_obs)
        if self.normalize_obs:  # buffers only: the parameters' random draws are the same as without
            # NerveNet's filter: sqrt(max(var, 1e-2) + 1e-6), clip at 5
            self.obs_norm = nn.ModuleDict({t: RunningNorm(ROOT_DIM if t == "root" else JOINT_DIM, min_var=1e-2) for t in NODE_TYPES})
            self.critic_obs_norm = RunningNorm(21 * self.n + 13, min_var=1e-2) if critic == "mlp" else None

    def extra_repr(self) -> str:
        return (f"n={self.n}, hidden={self.hidden}, steps={self.steps}, embed_dim={self.embed_dim}, critic={self.critic_kind!r}"
                + (", normalize_obs=True" if self.normalize_obs else ""))

    def _split_raw(self, obs: torch.Tensor):
        if not isinstance(obs, torch.Tensor) or obs.ndim != 2:
            raise ValueError(f"observations must be a (B, 21n + 13) tensor; got {type(obs).__name__} "
                             f"of shape {tuple(getattr(obs, 'shape', ()))}")
        n = centipede_legs(obs.shape[1])
        check_finite(obs, "observation")
        obs = obs.to(self.log_std.dtype)
        root, joints = split_observation(obs, n)  # (B, 17), (B, 3n - 2, 8)
        return obs, root, joints, n

    def _split(self, obs: torch.Tensor):
        """Flat observations ``(B, 21n + 13)``, root features ``(B, 17)`` and joint features ``(B, 3n - 2, 8)``, normalised if asked."""
        obs, root, joints, n = self._split_raw(obs)
        if not self.normalize_obs:
            return obs, root, joints, n
        root_hat = self.obs_norm["root"](root)  # \hat o_root: (B, 17)
        joints_hat = torch.empty_like(joints)  # \hat o_v for the joints: (B, 3n - 2, 8)
        for kind, rows in _joint_groups(n, str(joints.device)):
            joints_hat[:, rows] = self.obs_norm[kind](joints[:, rows])
        if self.critic_obs_norm is not None and n == self.n:
            obs = self.critic_obs_norm(obs)  # the flat critic's input, normalised per index
        return obs, root_hat, joints_hat, n

    @torch.no_grad()
    def observe(self, obs: torch.Tensor) -> None:
        """Update the observation statistics with a batch ``(B, 21m + 13)`` of any size ``m``; a no-op unless ``normalize_obs``.

        Every node type's :class:`~gnnrl_lite.nn.RunningNorm` pools its nodes' features over the
        batch; the flat critic's per-index statistics are updated only for the training size ``n``.
        """
        if not self.normalize_obs:
            return
        obs, root, joints, n = self._split_raw(obs)
        self.obs_norm["root"].update(root)
        for kind, rows in _joint_groups(n, str(joints.device)):
            self.obs_norm[kind].update(joints[:, rows])  # (B, k, 8), pooled over batch and nodes
        if self.critic_obs_norm is not None and n == self.n:
            self.critic_obs_norm.update(obs)

    def log_std_for(self, n: int) -> torch.Tensor:
        r""":math:`\log\sigma` for Centipede-``n``, shape ``(3n - 2,)``: the parameter itself for the
        training size, else NerveNet's transfer (same joint name: copied; new joint: mean over the
        training joints of its type)."""
        if n == self.n:
            return self.log_std
        return _log_std_map(self.n, n).to(self.log_std) @ self.log_std

    def _mean(self, root: torch.Tensor, joints: torch.Tensor, n: int) -> torch.Tensor:
        h = self.gnn(root, joints, n)  # h^T: (B, 3n - 1, H)
        mu_nodes = self.decoder(h[:, 1:]).squeeze(-1)  # F_out on every joint node: (B, 3n - 2), node order
        return mu_nodes[:, _node_indices(n, str(mu_nodes.device))[1]]  # actuator order: (B, 3n - 2)

    def action_mean(self, obs: torch.Tensor) -> torch.Tensor:
        """Action means :math:`\\mu(s)`, shape ``(B, 3n - 2)`` in actuator order, for observations ``(B, 21n + 13)``."""
        _, root, joints, n = self._split(obs)
        return self._mean(root, joints, n)

    def distribution(self, obs: torch.Tensor) -> Independent:
        """The actor alone: :math:`\\pi(\\cdot \\mid s)` for observations ``(B, 21n + 13)`` of any size."""
        _, root, joints, n = self._split(obs)
        mu = self._mean(root, joints, n)
        return Independent(Normal(mu, self.log_std_for(n).exp().expand_as(mu)), 1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """The critic alone: :math:`V(s)`, shape ``(B,)``."""
        obs, root, joints, n = self._split(obs)
        return self._value(obs, root, joints, n)

    def _value(self, obs, root, joints, n) -> torch.Tensor:
        if self.critic_kind == "graph":
            return self.critic(root, joints, n)
        if n == self.n:
            return self.critic(obs).squeeze(-1)
        if torch.is_grad_enabled():
            raise ValueError(f"the flat MLP critic was built for Centipede-{self.n} and cannot value Centipede-{n}; "
                             "evaluate under torch.no_grad() (values are NaN), use distribution(obs), "
                             "or build the policy with critic='graph' to train on several sizes")
        return torch.full((obs.shape[0],), float("nan"), dtype=obs.dtype, device=obs.device)

    def forward(self, obs: torch.Tensor):
        obs, root, joints, n = self._split(obs)
        mu = self._mean(root, joints, n)  # (B, 3n - 2)
        dist = Independent(Normal(mu, self.log_std_for(n).exp().expand_as(mu)), 1)
        return dist, self._value(obs, root, joints, n)


def freeze(module: nn.Module, parts: Iterable[str] = SNOWFLAKE_PARTS) -> list[str]:
    """Snowflake's parameter freezing: ``parts`` keep their current values and leave the optimiser.

    Every parameter of the chosen parts gets ``requires_grad=False``, so optimisers built
    afterwards from ``[p for p in module.parameters() if p.requires_grad]`` (as
    :func:`gnnrl_lite.algos.ppo.train` does) skip them, and they receive no gradient. The
    activations still carry gradients *through* the frozen parts to the parts before them. Call it
    right after construction to keep the random initial values, as Snowflake does (the code's
    ``--freeze_vars`` drops every variable whose name contains a given string from the optimiser).

    Parameters
    ----------
    module : NerveNetActorCritic
        Any module with a ``PARTS`` mapping from part name to parameter-name prefix.
    parts : iterable of str
        Names from :data:`FREEZABLE_PARTS`; default :data:`SNOWFLAKE_PARTS` (encoder, message
        function and decoder).

    Returns
    -------
    list of str
        The names (as in ``module.named_parameters()``) of the frozen parameters.

    Raises
    ------
    ValueError
        For an unknown part, or a part with no parameters in ``module``.

    Examples
    --------
    >>> pi = NerveNetActorCritic(4)
    >>> names = freeze(pi)
    >>> names[0], len(names)
    ('gnn.encoder.root.0.weight', 16)
    """
    table = getattr(module, "PARTS", None)
    if not isinstance(table, dict):
        raise TypeError(f"freeze expects a module with a PARTS mapping (e.g. NerveNetActorCritic); got {type(module).__name__}")
    parts = [parts] if isinstance(parts, str) else list(parts)
    frozen = []
    for part in parts:
        check_choice(part, table, "part")
        prefix = table[part]
        chosen = [(name, p) for name, p in module.named_parameters() if name == prefix or name.startswith(prefix + ".")]
        if not chosen:
            raise ValueError(f"part {part!r} has no parameters in this {type(module).__name__}")
        for name, p in chosen:
            p.requires_grad_(False)
            if name not in frozen:
                frozen.append(name)
    return frozen
