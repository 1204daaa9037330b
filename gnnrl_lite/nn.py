r"""Neural-network building blocks on DGL: MLPs, a running input normaliser, message passing and readouts.

The message-passing neural network (MPNN) of Gilmer et al. (2017) updates every node from its
incoming messages:

.. math::

    m_{uv} &= \phi_e\big(h_u, h_v, e_{uv}\big) \\
    m_v &= \bigoplus_{u \in \mathcal{N}(v)} m_{uv} \\
    h_v' &= \phi_h\big(h_v, m_v\big)

where :math:`h_v` is node :math:`v`'s state, :math:`e_{uv}` the feature of edge :math:`u \to v`,
:math:`\bigoplus` a permutation-invariant aggregation (sum, mean or max) and :math:`\phi_e,\phi_h`
MLPs. Because :math:`\bigoplus` ignores the order of neighbours and the same :math:`\phi` is
applied at every node, an MPNN is permutation-equivariant and runs on graphs of any size.

To reuse: copy this file, ``graphs.py`` and ``checks.py``; needs torch, dgl.
Derived in Chapter 1, section "Message passing by hand".

References
----------
Gilmer et al., *Neural Message Passing for Quantum Chemistry*, ICML 2017.
Li et al., *Gated Graph Sequence Neural Networks*, ICLR 2016.
Battaglia et al., *Relational inductive biases, deep learning, and graph networks*, 2018.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

import dgl
import dgl.function as fn

from .checks import check_choice, check_finite, check_positive_int

__all__ = ["ACTIVATIONS", "AGGREGATIONS", "get_activation", "MLP", "RunningNorm", "MPNNLayer", "MPNNEncoder", "GatedMPNN", "Readout", "readout",
           "GraphPredictor"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}
AGGREGATIONS = ("sum", "mean", "max")


def get_activation(name: str) -> nn.Module:
    """Return a fresh activation module by name (one of :data:`ACTIVATIONS`).

    Raises ``ValueError`` naming the allowed values for an unknown name.

    Examples
    --------
    >>> get_activation("tanh")
    Tanh()
    """
    check_choice(name, ACTIVATIONS, "activation")
    return ACTIVATIONS[name]()


class MLP(nn.Sequential):
    r"""A multilayer perceptron :math:`\sigma_{out}(W_L\, \sigma(\cdots \sigma(W_1 x + b_1) \cdots) + b_L)`.

    Parameters
    ----------
    in_dim : int
        Input size :math:`D_{in}`.
    hidden : sequence of int
        Hidden layer sizes; ``()`` gives a single linear layer.
    out_dim : int
        Output size :math:`D_{out}`.
    activation : str
        Activation after every hidden layer (see :func:`get_activation`).
    output_activation : str
        Activation after the last layer (``"identity"`` for none).

    Notes
    -----
    Shapes: input ``(..., D_in)``, output ``(..., D_out)``.

    Examples
    --------
    >>> MLP(4, (8,), 2)(torch.zeros(5, 4)).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int, activation: str = "relu", output_activation: str = "identity"):
        get_activation(activation), get_activation(output_activation)  # validate names early
        dims = [in_dim, *hidden, out_dim]
        layers: list[nn.Module] = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            layers.append(get_activation(activation if i < len(dims) - 2 else output_activation))
        super().__init__(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"MLP expects inputs with last dimension {self.in_dim}; got shape {tuple(x.shape)}")
        return super().forward(x)


class RunningNorm(nn.Module):
    r"""Normalise inputs with a running mean and variance, then clip (NerveNet's observation filter).

    .. math::

        \hat x = \mathrm{clip}\Big(\frac{x - \mu}{\sqrt{\max(\sigma^2, \sigma^2_{min}) + \varepsilon}},\; -c,\; c\Big)

    where :math:`\mu` and :math:`\sigma^2` are the mean and (population) variance, per feature,
    of every row passed to :meth:`update` so far, :math:`\varepsilon` keeps the division finite
    for constant features, :math:`\sigma^2_{min}` optionally floors the variance (NerveNet's and
    Snowflake's ``update_running_means`` use :math:`10^{-2}`, so a feature that is almost always
    constant, like a hip's contact force, is not blown up when it moves) and :math:`c` bounds the
    result. Before the first update (count
    :math:`n = 0`) the scale is 1 and the mean 0, so :math:`\hat x = \mathrm{clip}(x, -c, c)`, as
    in NerveNet's ``util/ob_normalizer.py``. :meth:`update` merges a batch of :math:`m` rows with
    mean :math:`\bar x_B` and population variance :math:`s_B^2` by Chan et al.'s parallel rule,

    .. math::

        n' = n + m, \qquad \delta = \bar x_B - \mu, \qquad
        \mu' = \mu + \delta\, \frac{m}{n'}, \qquad
        \sigma'^2 = \frac{n\, \sigma^2 + m\, s_B^2 + \delta^2\, n m / n'}{n'},

    which gives exactly the mean and variance of all rows seen (up to rounding; the statistics
    are kept in float64), like NerveNet's sums and sums of squares over every batch.

    ``forward`` never changes the statistics; only :meth:`update` does (a policy calls it from its
    ``observe`` hook during PPO rollouts, see :mod:`gnnrl_lite.algos.ppo`). ``count``, ``mean``
    and ``var`` are buffers, so they are saved in ``state_dict()`` and in PPO checkpoints.

    Parameters
    ----------
    dim : int
        Number of features :math:`D` (the last axis of the inputs).
    eps : float
        :math:`\varepsilon` (NerveNet: 1e-6).
    clip : float or None
        :math:`c` (NerveNet: 5); ``None`` disables clipping.
    min_var : float
        :math:`\sigma^2_{min}`, default 0 (no floor; NerveNet: 1e-2). Only the scale uses it:
        ``var`` stays the variance of the data.

    Notes
    -----
    Shapes: ``forward(x)`` takes ``(..., D)`` and returns ``(..., D)`` in ``x``'s dtype;
    ``update(x)`` takes ``(..., D)`` and pools all leading axes, e.g. ``(B, D)`` or ``(B, K, D)``
    for ``K`` nodes of one kind. Buffers: ``count`` ``()``, ``mean`` ``(D,)``, ``var`` ``(D,)``.

    Examples
    --------
    >>> norm = RunningNorm(2)
    >>> norm.update(torch.tensor([[0.0, 10.0], [2.0, 10.0]]))
    >>> norm.mean.tolist(), norm.var.tolist()
    ([1.0, 10.0], [1.0, 0.0])
    >>> norm(torch.tensor([[3.0, 10.0]]))  # (3 - 1) / sqrt(1 + 1e-6), (10 - 10) / sqrt(0 + 1e-6)
    tensor([[2.0000, 0.0000]])

    References
    ----------
    Chan, Golub & LeVeque, *Updating Formulae and a Pairwise Algorithm for Computing Sample
    Variances*, 1979. Wang et al., *NerveNet*, ICLR 2018 (``util/ob_normalizer.py``).
    """

    def __init__(self, dim: int, eps: float = 1e-6, clip: float | None = 5.0, min_var: float = 0.0):
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        if not eps > 0:
            raise ValueError(f"eps must be positive; got {eps!r}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be positive or None; got {clip!r}")
        if not min_var >= 0:
            raise ValueError(f"min_var must be non-negative; got {min_var!r}")
        self.eps, self.clip, self.min_var = float(eps), None if clip is None else float(clip), float(min_var)
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))  # n
        self.register_buffer("mean", torch.zeros(self.dim, dtype=torch.float64))  # \mu
        self.register_buffer("var", torch.zeros(self.dim, dtype=torch.float64))  # \sigma^2

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}, clip={self.clip}" + (f", min_var={self.min_var}" if self.min_var else "")

    def _check(self, x, where: str) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"RunningNorm.{where} expects a torch.Tensor of shape (..., {self.dim}); got {type(x).__name__}")
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"RunningNorm.{where} expects shape (..., {self.dim}); got {tuple(x.shape)}")

    @property
    def std(self) -> torch.Tensor:
        r""":math:`\sqrt{\max(\sigma^2, \sigma^2_{min}) + \varepsilon}`, shape ``(D,)`` float64; ones before the first update."""
        scale = torch.sqrt(self.var.clamp(min=self.min_var) + self.eps)
        return torch.where(self.count > 0, scale, torch.ones_like(self.var))  # no host sync

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Merge the rows of ``x`` ``(..., D)`` (all leading axes pooled) into the statistics.

        An empty batch changes nothing; non-finite values raise ``ValueError`` (they would poison
        the statistics for good).
        """
        self._check(x, "update")
        x = x.detach().reshape(-1, self.dim).to(device=self.mean.device, dtype=torch.float64)  # (m, D)
        m = x.shape[0]
        if m == 0:
            return
        check_finite(x, "RunningNorm.update input")
        batch_mean, batch_var = x.mean(0), x.var(0, unbiased=False)  # \bar x_B, s_B^2: (D,)
        n = self.count.item()
        total = n + m  # n'
        delta = batch_mean - self.mean  # \delta
        self.var.copy_((n * self.var + m * batch_var + delta**2 * (n * m / total)) / total)
        self.mean.add_(delta * (m / total))
        self.count.fill_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x, "forward")
        x_hat = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)  # (..., D)
        return x_hat if self.clip is None else x_hat.clamp(-self.clip, self.clip)


def _check_graph_input(g: dgl.DGLGraph, feat: torch.Tensor, in_dim: int, where: str) -> None:
    if g.num_nodes() == 0:
        raise ValueError(f"{where}: graph has zero nodes")
    if feat.ndim != 2 or feat.shape[0] != g.num_nodes() or feat.shape[1] != in_dim:
        raise ValueError(f"{where}: node features must have shape ({g.num_nodes()}, {in_dim}); got {tuple(feat.shape)}")


class MPNNLayer(nn.Module):
    r"""One round of message passing (Gilmer et al., 2017).

    .. math::

        m_{uv} = \phi_e\big([h_u \,\|\, h_v \,\|\, e_{uv}]\big), \qquad
        m_v = \bigoplus_{u \in \mathcal{N}(v)} m_{uv}, \qquad
        h_v' = \phi_h\big([h_v \,\|\, m_v]\big)

    where :math:`\|` is concatenation. A node without incoming edges receives :math:`m_v = 0`.

    Parameters
    ----------
    in_dim : int
        Size of :math:`h_v`, :math:`D_{in}`.
    out_dim : int
        Size of :math:`h_v'`, :math:`D_{out}`.
    edge_dim : int
        Size of :math:`e_{uv}` (``0``: no edge features).
    hidden : int
        Size of the message :math:`m_{uv}` and of the MLPs' hidden layer.
    aggregation : str
        :math:`\bigoplus`, one of ``"sum"``, ``"mean"``, ``"max"``.
    activation : str
        Activation inside :math:`\phi_e` and :math:`\phi_h`.

    Notes
    -----
    Shapes: ``forward(g, h, e=None)`` takes ``h`` of shape ``(N, D_in)`` and ``e`` of shape
    ``(E, D_e)``; returns ``(N, D_out)``.

    Examples
    --------
    >>> g = dgl.graph(([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]))
    >>> MPNNLayer(3, 4)(g, torch.ones(6, 3)).shape
    torch.Size([6, 4])
    """

    def __init__(self, in_dim: int, out_dim: int, edge_dim: int = 0, hidden: int = 64, aggregation: str = "sum", activation: str = "relu"):
        super().__init__()
        self.aggregation = check_choice(aggregation, AGGREGATIONS, "aggregation")
        self.in_dim, self.out_dim, self.edge_dim, self.hidden = in_dim, out_dim, edge_dim, hidden
        self.phi_e = MLP(2 * in_dim + edge_dim, (hidden,), hidden, activation, activation)  # \phi_e
        self.phi_h = MLP(in_dim + hidden, (hidden,), out_dim, activation)  # \phi_h

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}, edge_dim={self.edge_dim}, aggregation={self.aggregation!r}"

    def forward(self, g: dgl.DGLGraph, h: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
        _check_graph_input(g, h, self.in_dim, "MPNNLayer")
        check_finite(h, "node features")
        if not self.edge_dim and e is not None:
            raise ValueError("MPNNLayer: edge features were given but edge_dim=0; build the layer with edge_dim=D_e")
        if self.edge_dim and (e is None or tuple(e.shape) != (g.num_edges(), self.edge_dim)):
            got = None if e is None else tuple(e.shape)
            raise ValueError(f"MPNNLayer: edge features must have shape ({g.num_edges()}, {self.edge_dim}); got {got}")
        # phi_e's first layer is linear in [h_u || h_v || e_uv], so it splits into per-node terms
        # W_u h_u and W_v h_v (computed once per node, not once per edge) plus W_e e_uv.
        first = self.phi_e[0]
        W_u, W_v, W_e = first.weight.split([self.in_dim, self.in_dim, self.edge_dim], dim=1)
        with g.local_scope():
            g.ndata["a_u"] = h @ W_u.T  # (N, hidden)
            g.ndata["a_v"] = h @ W_v.T + first.bias
            g.apply_edges(fn.u_add_v("a_u", "a_v", "z"))  # (E, hidden)
            z = g.edata["z"] + (e @ W_e.T if self.edge_dim else 0.0)
            for layer in list(self.phi_e)[1:]:  # the rest of phi_e
                z = layer(z)
            g.edata["m"] = z  # m_uv = phi_e([h_u || h_v || e_uv]): (E, hidden)
            g.update_all(fn.copy_e("m", "m"), getattr(fn, self.aggregation)("m", "m_v"))
            m_v = g.ndata["m_v"]  # (N, hidden); DGL gives 0 to nodes without in-edges
            return self.phi_h(torch.cat([h, m_v], dim=-1))  # h_v': (N, D_out)


class MPNNEncoder(nn.Module):
    r"""A stack of :class:`MPNNLayer` s with an activation after each: node features to node embeddings.

    .. math::

        h_v^{0} = x_v, \qquad h^{l+1} = \sigma\big(\mathrm{MPNN}_l(G, h^{l}, e)\big), \qquad l = 0, \dots, L-1

    Each layer has its own weights; after :math:`L` layers a node has seen its :math:`L`-hop
    neighbourhood.

    Parameters
    ----------
    in_dim : int
        Size of :math:`x_v`.
    hidden : int
        Size of every :math:`h_v^{l}`, :math:`l \ge 1`, and of the messages.
    layers : int
        Number of layers :math:`L`.
    edge_dim : int
        Size of :math:`e_{uv}` (``0``: none), given to every layer.
    aggregation : str
        :math:`\bigoplus` of every layer (``"sum"``, ``"mean"`` or ``"max"``).
    activation : str
        :math:`\sigma` and the activation inside the layers.

    Notes
    -----
    Shapes: ``forward(g, x, e=None)`` takes ``(N, D_in)`` (and ``(E, D_e)``) and returns ``(N, hidden)``.

    Examples
    --------
    >>> g = dgl.graph(([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]))
    >>> MPNNEncoder(3, 8, layers=2)(g, torch.ones(6, 3)).shape
    torch.Size([6, 8])
    """

    def __init__(self, in_dim: int, hidden: int = 64, layers: int = 2, edge_dim: int = 0, aggregation: str = "sum", activation: str = "relu"):
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be at least 1; got {layers}")
        self.sigma = get_activation(activation)
        dims = [in_dim] + [hidden] * layers
        self.layers = nn.ModuleList(
            MPNNLayer(d_in, d_out, edge_dim, hidden, aggregation, activation) for d_in, d_out in zip(dims, dims[1:])
        )
        self.in_dim, self.hidden = in_dim, hidden

    def forward(self, g: dgl.DGLGraph, x: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
        h = x
        for layer in self.layers:
            h = self.sigma(layer(g, h, e))  # h^{l+1}: (N, hidden)
        return h


class GatedMPNN(nn.Module):
    r"""Gated message passing: ``steps`` rounds with tied weights and a GRU update (Li et al., 2016).

    .. math::

        m_v^{t} = \bigoplus_{u \in \mathcal{N}(v)} \phi_m\big(h_u^{t}\big), \qquad
        h_v^{t+1} = \mathrm{GRU}\big(m_v^{t}, h_v^{t}\big), \qquad t = 0, \dots, T-1

    with :math:`h_v^0 = W_{in} x_v` (a linear input projection), the same message MLP
    :math:`\phi_m` and GRU cell at every step, so information travels :math:`T` hops.
    A simplified version of NerveNet's propagation (Wang et al., 2018; Chapter 5), which has one
    GRU per node type and applies the reset gate before the recurrent matrix product.

    Parameters
    ----------
    in_dim : int
        Size of the node input :math:`x_v`.
    hidden : int
        Size of :math:`h_v^t`.
    steps : int
        Number of propagation steps :math:`T`.
    aggregation : str
        :math:`\bigoplus`, one of ``"sum"``, ``"mean"``, ``"max"``.
    activation : str
        Activation inside :math:`\phi_m`.

    Notes
    -----
    Shapes: ``forward(g, x)`` takes ``(N, D_in)`` and returns ``(N, hidden)``.
    """

    def __init__(self, in_dim: int, hidden: int = 64, steps: int = 3, aggregation: str = "mean", activation: str = "tanh"):
        super().__init__()
        if steps < 1:
            raise ValueError(f"steps must be at least 1; got {steps}")
        self.aggregation = check_choice(aggregation, AGGREGATIONS, "aggregation")
        self.in_dim, self.hidden, self.steps = in_dim, hidden, steps
        self.input = nn.Linear(in_dim, hidden)  # W_in
        self.phi_m = MLP(hidden, (hidden,), hidden, activation, activation)  # \phi_m
        self.gru = nn.GRUCell(hidden, hidden)  # U

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, hidden={self.hidden}, steps={self.steps}, aggregation={self.aggregation!r}"

    def forward(self, g: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        _check_graph_input(g, x, self.in_dim, "GatedMPNN")
        check_finite(x, "node features")
        h = self.input(x)  # h^0: (N, hidden)
        reduce = getattr(fn, self.aggregation)("m", "m_v")
        with g.local_scope():
            for _ in range(self.steps):
                g.ndata["msg"] = self.phi_m(h)
                g.update_all(fn.copy_u("msg", "m"), reduce)
                m_v = g.ndata["m_v"]  # (N, hidden); 0 for nodes without in-edges
                h = self.gru(m_v, h)  # h^{t+1}
        return h


class Readout(nn.Module):
    r"""Pool node states into one vector per graph: :math:`z_G = \bigoplus_{v \in G} h_v`.

    ``kind`` is ``"sum"``, ``"mean"`` or ``"max"``. Sum grows with the graph's size; mean and max
    stay bounded (Chapter 2 measures this). Input ``(N, D)`` for a batch of ``B`` graphs, output ``(B, D)``.
    """

    def __init__(self, kind: str = "mean"):
        super().__init__()
        self.kind = check_choice(kind, AGGREGATIONS, "readout")

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"

    def forward(self, g: dgl.DGLGraph, h: torch.Tensor) -> torch.Tensor:
        return readout(g, h, self.kind)


def readout(g: dgl.DGLGraph, h: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    """Functional form of :class:`Readout`: ``(N, D)`` node states to ``(B, D)`` graph vectors.

    Raises ``ValueError`` for an unknown ``kind``, features whose first dimension is not the number
    of nodes, or a batch containing a graph with zero nodes (its mean or max is undefined).
    """
    check_choice(kind, AGGREGATIONS, "readout")
    if h.shape[0] != g.num_nodes():
        raise ValueError(f"readout: node states have {h.shape[0]} rows but the graph has {g.num_nodes()} nodes")
    if bool((g.batch_num_nodes() == 0).any()):
        raise ValueError("readout: a graph in the batch has zero nodes; its readout is undefined")
    check_finite(h, "node states")
    with g.local_scope():
        g.ndata["h"] = h
        return dgl.readout_nodes(g, "h", op=kind)


class GraphPredictor(nn.Module):
    r"""One output vector per graph: message passing, a readout, then an MLP.

    .. math::

        h = \mathrm{MPNNEncoder}(G, x, e), \qquad
        z_G = \begin{cases} \bigoplus_{v \in G} h_v & \text{readout} \in \{\text{sum}, \text{mean}, \text{max}\} \\
                             h_{v_G} & \text{readout} = \text{node} \end{cases}, \qquad
        y_G = \mathrm{MLP}(z_G)

    With ``readout="node"`` each graph is summarised by one designated node :math:`v_G` (e.g. the
    agent's own node), whose global indices in the batch are passed to ``forward``.
    Used as a value network (Chapter 2) and as the actor and critic of
    :class:`gnnrl_lite.policies.GraphActorCritic` (Chapter 3).

    Parameters
    ----------
    in_dim : int
        Size of :math:`x_v`.
    out_dim : int
        Size of :math:`y_G`.
    hidden : int
        Size of node embeddings and of the MLP's hidden layer.
    layers : int
        Message-passing layers.
    readout : str
        ``"sum"``, ``"mean"``, ``"max"`` or ``"node"``.
    aggregation : str
        Message aggregation inside the encoder.
    activation : str
        Activation of the encoder and the MLP.
    edge_dim : int
        Size of :math:`e_{uv}` (0: none).

    Notes
    -----
    Shapes: ``forward(g, x, e=None, nodes=None)`` takes ``(N, D_in)``, optionally ``(E, D_e)`` and
    ``(B,)`` node indices, and returns ``(B, D_out)``; ``embed`` returns :math:`z_G`, ``(B, hidden)``.

    Examples
    --------
    >>> g = dgl.batch([dgl.graph(([0, 1], [1, 2])), dgl.graph(([0], [1]))])
    >>> GraphPredictor(3, 2, hidden=8)(g, torch.ones(5, 3)).shape
    torch.Size([2, 2])
    """

    READOUTS = AGGREGATIONS + ("node",)

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 32, layers: int = 2, readout: str = "sum",
                 aggregation: str = "sum", activation: str = "relu", edge_dim: int = 0):
        super().__init__()
        self.readout_kind = check_choice(readout, self.READOUTS, "readout")
        self.encoder = MPNNEncoder(in_dim, hidden, layers, edge_dim, aggregation, activation)
        self.head = MLP(hidden, (hidden,), out_dim, activation)

    def extra_repr(self) -> str:
        return f"readout={self.readout_kind!r}"

    def embed(self, g: dgl.DGLGraph, x: torch.Tensor, e: torch.Tensor | None = None, nodes: torch.Tensor | None = None) -> torch.Tensor:
        h = self.encoder(g, x, e)  # (N, hidden)
        if self.readout_kind != "node":
            return readout(g, h, self.readout_kind)  # (B, hidden)
        if nodes is None or tuple(nodes.shape) != (g.batch_size,):
            raise ValueError(f"readout='node' needs one node index per graph, shape ({g.batch_size},); got {None if nodes is None else tuple(nodes.shape)}")
        return h[nodes]  # (B, hidden)

    def forward(self, g: dgl.DGLGraph, x: torch.Tensor, e: torch.Tensor | None = None, nodes: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.embed(g, x, e, nodes))  # (B, D_out)
