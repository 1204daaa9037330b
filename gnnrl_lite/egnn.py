r"""E(n)-equivariant graph networks for control: EGNN, E2GN2 and the coordinate-blind GNN baseline.

Every node :math:`i` carries an invariant feature vector :math:`h_i \in \mathbb{R}^F` and an
equivariant coordinate :math:`x_i \in \mathbb{R}^D` (a position, or a 2-D action mean). An EGNN layer
(Satorras et al., 2021) updates both from messages along the edges :math:`j \to i`:

.. math::

    m_{ij} &= \phi_e\big(h_i, h_j, \lVert x_i - x_j \rVert^2, a_{ij}\big) \\
    x_i' &= x_i + C \sum_{j \in \mathcal{N}(i)} (x_i - x_j)\, \phi_x(m_{ij}) \\
    m_i &= \sum_{j \in \mathcal{N}(i)} m_{ij}, \qquad h_i' = h_i + \phi_h(h_i, m_i)

Messages see the coordinates only through distances, so :math:`h'` is invariant and :math:`x'`
equivariant to rotations, reflections and translations of all :math:`x_i` together:
:math:`(h, x Q^\top + t) \mapsto (h', x' Q^\top + t)` for any orthogonal :math:`Q` (rows of
:math:`x` are nodes) and shift :math:`t`. E2GN2 (McClellan et al., 2024) replaces the
coordinate update by

.. math::

    u_i' = u_i\, \phi_{u2}(m_i) + C \sum_{j \in \mathcal{N}(i)} (u_i - u_j)\, \phi_u(m_{ij}),

which keeps rotations and reflections but drops translations, on purpose (:class:`E2GN2Layer`).
Why it matters for RL: with the agent's own :math:`u_i^L` as its action mean, EGNN at
initialisation outputs :math:`u_i^L \approx u_i^0`, the agent's position, so every agent first
walks away from the origin; E2GN2 starts unbiased. :func:`coordinate_slope` measures this bias.

To reuse: copy this file, ``nn.py`` and ``checks.py``; needs torch, dgl.
Used in Chapter 7.

References
----------
Satorras, Hoogeboom & Welling, *E(n) Equivariant Graph Neural Networks*, ICML 2021
(code: ``vgsatorras/egnn``, ``models/egnn_clean/egnn_clean.py``).
McClellan, Haghani, Winder, Huang & Tokekar, *Boosting Sample Efficiency and Generalization in
Multi-agent Reinforcement Learning via Equivariance*, NeurIPS 2024
(https://openreview.net/forum?id=MQIET1VfoV; E2GN2, no public code).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

import dgl
import dgl.function as fn

from .checks import check_choice, check_finite, check_positive_int
from .nn import MLP

__all__ = ["COORDS_AGGREGATIONS", "KINDS", "EGNNLayer", "E2GN2Layer", "GNNLayer", "EquivariantGraphNetwork", "complete_graph",
           "coordinate_slope"]

COORDS_AGGREGATIONS = ("mean", "sum")
KINDS = ("egnn", "e2gn2", "gnn")


def _check_inputs(g: dgl.DGLGraph, h: torch.Tensor, x: torch.Tensor, in_dim: int, where: str, coord_dim: int | None = None) -> None:
    n = g.num_nodes()
    if h.ndim != 2 or h.shape != (n, in_dim):
        raise ValueError(f"{where}: node features h must have shape ({n}, {in_dim}) (num_nodes, in_dim); got {tuple(h.shape)}")
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] < 1:
        raise ValueError(f"{where}: coordinates x must have shape ({n}, D), one row per node like h; got {tuple(x.shape)}")
    if coord_dim is not None and x.shape[1] != coord_dim:
        raise ValueError(f"{where}: coordinates x must have shape ({n}, {coord_dim}) (coord_dim={coord_dim}); got {tuple(x.shape)}")
    check_finite(h, f"{where} node features h")
    check_finite(x, f"{where} coordinates x")


class EGNNLayer(nn.Module):
    r"""One E(n)-equivariant message-passing layer (Satorras et al., 2021, `arXiv:2102.09844 <https://arxiv.org/abs/2102.09844>`_).

    .. math::

        m_{ij} = \phi_e\big(h_i, h_j, \lVert x_i - x_j \rVert^2, a_{ij}\big), \quad
        x_i' = x_i + C \sum_{j \in \mathcal{N}(i)} (x_i - x_j)\, \phi_x(m_{ij}), \quad
        h_i' = h_i + \phi_h\Big(h_i, \sum_{j \in \mathcal{N}(i)} m_{ij}\Big)

    where an edge :math:`j \to i` carries a message to its receiver :math:`i`, :math:`h_i` is node
    :math:`i`'s invariant feature, :math:`x_i` its coordinate, :math:`a_{ij}` an optional edge
    feature and :math:`C = 1/|\mathcal{N}(i)|` (``coords_agg="mean"``) or :math:`1` (``"sum"``).
    :math:`\phi_e` is Linear(2F+1+E → H), SiLU, Linear(H → H), SiLU; :math:`\phi_x` is Linear(H → H),
    SiLU, Linear(H → 1, no bias) with Xavier-uniform gain 0.001 (then tanh if ``tanh``);
    :math:`\phi_h` is Linear(F+H → H), SiLU, Linear(H → F'). A node without in-edges keeps its
    coordinate and gets :math:`m_i = 0`. Any coordinate dimension :math:`D` works.

    *Bias at initialisation (Theorem 1 of McClellan et al., 2024).* The gain of 0.001 makes
    :math:`\phi_x \approx 0`, so :math:`\mathbb{E}[x^{l+1}] \approx x^l`: a stack of layers starts
    as (almost) the identity on coordinates. :class:`E2GN2Layer` removes this bias.

    Parameters
    ----------
    in_dim : int
        Size :math:`F` of :math:`h_i`.
    hidden : int
        Size :math:`H` of the messages :math:`m_{ij}` and of the MLPs' hidden layers.
    out_dim : int or None
        Size :math:`F'` of :math:`h_i'`; ``None`` keeps :math:`F`.
    edge_dim : int
        Size :math:`E` of :math:`a_{ij}` (``0``: no edge features).
    residual : bool
        Add :math:`h_i` to :math:`\phi_h(\cdot)`; only applied when :math:`F' = F`.
    coords_agg : str
        :math:`C`: ``"mean"`` (default, as in ``egnn_clean``) or ``"sum"``.
    normalize : bool
        Use :math:`(x_i - x_j) / (\lVert x_i - x_j \rVert + 10^{-8})` in the coordinate update.
    tanh : bool
        Bound :math:`\phi_x` to :math:`(-1, 1)` with a final tanh.

    Notes
    -----
    Shapes: ``forward(g, h, x, e=None)`` takes ``h`` ``(N, F)``, ``x`` ``(N, D)`` and ``e``
    ``(E_g, E)`` (one row per edge) and returns ``(h', x')``, ``(N, F')`` and ``(N, D)``. The
    graph's data are left unchanged. Omitted from ``egnn_clean``: attention, node attributes,
    the velocity variant and the input/output embeddings (see :class:`EquivariantGraphNetwork`).

    Examples
    --------
    >>> g = complete_graph(6)
    >>> h, x = EGNNLayer(3, hidden=8)(g, torch.randn(6, 3), torch.randn(6, 2))
    >>> h.shape, x.shape
    (torch.Size([6, 3]), torch.Size([6, 2]))
    """

    coord_dim: int | None = None  # x may have any width D (GNNLayer fixes it)

    def __init__(self, in_dim: int, hidden: int = 32, out_dim: int | None = None, edge_dim: int = 0, residual: bool = True,
                 coords_agg: str = "mean", normalize: bool = False, tanh: bool = False):
        super().__init__()
        self.in_dim, self.hidden = check_positive_int(in_dim, "in_dim"), check_positive_int(hidden, "hidden")
        self.out_dim = self.in_dim if out_dim is None else check_positive_int(out_dim, "out_dim")
        if isinstance(edge_dim, bool) or not isinstance(edge_dim, (int, np.integer)) or edge_dim < 0:
            raise ValueError(f"edge_dim must be a non-negative integer; got {edge_dim!r}")
        self.edge_dim = int(edge_dim)
        self.coords_agg = check_choice(coords_agg, COORDS_AGGREGATIONS, "coords_agg")
        self.residual = bool(residual) and self.out_dim == self.in_dim
        self.normalize, self.tanh = bool(normalize), bool(tanh)
        H = self.hidden
        self.phi_e = MLP(2 * self.in_dim + 1 + self.edge_dim, (H,), H, "silu", "silu")  # \phi_e
        self.phi_x = nn.Sequential(nn.Linear(H, H), nn.SiLU(), nn.Linear(H, 1, bias=False),  # \phi_x
                                   nn.Tanh() if self.tanh else nn.Identity())
        self.phi_h = MLP(self.in_dim + H, (H,), self.out_dim, "silu")  # \phi_h
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default init everywhere, then Xavier-uniform gain 0.001 on :math:`\\phi_x`'s last layer."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()
        if self.phi_x is not None:  # GNNLayer has none
            nn.init.xavier_uniform_(self.phi_x[2].weight, gain=0.001)

    def extra_repr(self) -> str:
        return (f"in_dim={self.in_dim}, hidden={self.hidden}, out_dim={self.out_dim}, edge_dim={self.edge_dim}, "
                f"residual={self.residual}, coords_agg={self.coords_agg!r}, normalize={self.normalize}, tanh={self.tanh}")

    def _check(self, g: dgl.DGLGraph, h: torch.Tensor, x: torch.Tensor, e: torch.Tensor | None) -> None:
        _check_inputs(g, h, x, self.in_dim, type(self).__name__, self.coord_dim)
        if not self.edge_dim and e is not None:
            raise ValueError(f"{type(self).__name__}: edge features were given but edge_dim=0; build the layer with edge_dim=E")
        if self.edge_dim and (e is None or tuple(e.shape) != (g.num_edges(), self.edge_dim)):
            raise ValueError(f"{type(self).__name__}: edge features must have shape ({g.num_edges()}, {self.edge_dim}); "
                             f"got {None if e is None else tuple(e.shape)}")

    def edge_model(self, edges) -> dict:
        r""":math:`m_{ij} = \phi_e(h_i, h_j, \lVert x_i - x_j \rVert^2, a_{ij})` for a batch of edges (``edges.dst`` is :math:`i`)."""
        inputs = [edges.dst["h"], edges.src["h"], edges.data["radial"]] + ([edges.data["a"]] if self.edge_dim else [])
        return {"m_ij": self.phi_e(torch.cat(inputs, dim=-1))}  # (E, H)

    def coord_model(self, g: dgl.DGLGraph, x: torch.Tensor, coord_diff: torch.Tensor, m_ij: torch.Tensor, m_i: torch.Tensor) -> torch.Tensor:
        r""":math:`x_i' = x_i + C \sum_j (x_i - x_j)\, \phi_x(m_{ij})`; ``coord_diff`` is ``(E, D)``."""
        return x + self._aggregate(g, coord_diff * self.phi_x(m_ij), self.coords_agg)

    def node_model(self, h: torch.Tensor, m_i: torch.Tensor) -> torch.Tensor:
        r""":math:`h_i' = h_i + \phi_h(h_i, m_i)` (without :math:`h_i` when not residual)."""
        update = self.phi_h(torch.cat([h, m_i], dim=-1))  # (N, F')
        return h + update if self.residual else update

    @staticmethod
    def _aggregate(g: dgl.DGLGraph, edge_values: torch.Tensor, how: str) -> torch.Tensor:
        """Sum or mean of ``(E, K)`` edge values over each node's in-edges: ``(N, K)``, 0 without in-edges."""
        g.edata["val"] = edge_values
        g.update_all(fn.copy_e("val", "val"), getattr(fn, how)("val", "agg"))
        return g.ndata.pop("agg")

    def forward(self, g: dgl.DGLGraph, h: torch.Tensor, x: torch.Tensor, e: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(g, h, x, e)
        with g.local_scope():
            g.ndata["h"], g.ndata["x"] = h, x
            if self.edge_dim:
                g.edata["a"] = e
            g.apply_edges(fn.v_sub_u("x", "x", "coord_diff"))  # x_i - x_j for edge j -> i: (E, D)
            coord_diff = g.edata["coord_diff"]
            radial = (coord_diff**2).sum(dim=-1, keepdim=True)  # ||x_i - x_j||^2: (E, 1)
            g.edata["radial"] = radial
            if self.normalize:
                coord_diff = coord_diff / (radial.sqrt() + 1e-8)
            g.apply_edges(self.edge_model)
            m_ij = g.edata["m_ij"]  # (E, H)
            m_i = self._aggregate(g, m_ij, "sum")  # (N, H)
            return self.node_model(h, m_i), self.coord_model(g, x, coord_diff, m_ij, m_i)


class E2GN2Layer(EGNNLayer):
    r"""EGNN with an unbiased coordinate update: E2GN2 (McClellan et al., 2024, `arXiv:2410.02581 <https://arxiv.org/abs/2410.02581>`_).

    .. math::

        u_i' = u_i\, \phi_{u2}(m_i) + C \sum_{j \in \mathcal{N}(i)} (u_i - u_j)\, \phi_u(m_{ij}), \qquad
        m_i = \sum_{j \in \mathcal{N}(i)} m_{ij}

    with :math:`m_{ij}`, :math:`h_i'`, :math:`C` and :math:`\phi_u = \phi_x` exactly as in
    :class:`EGNNLayer` (the paper writes :math:`u_i` for the equivariant vector) and
    :math:`\phi_{u2}` = Linear(H → H), SiLU, Linear(H → 1), one scalar per node.

    *Why (the paper's Theorems 1 and 2).* Under random initialisation EGNN has
    :math:`\mathbb{E}[u^{l+1}] \approx u^l`, since :math:`\phi_u \approx 0`. Here
    :math:`\mathbb{E}[u_i^{l+1}] = u_i\, \mathbb{E}[\phi_{u2}(m_i)] + \ldots \approx 0`:
    :math:`\phi_{u2}`'s last layer has PyTorch's default zero-mean symmetric weights, drawn
    independently of everything before it, and we set its bias to **zero**, so
    :math:`\mathbb{E}[\phi_{u2}] = 0` over initialisations; the sum is :math:`\approx 0` as in EGNN.
    A policy whose action mean is :math:`u_i^L` therefore starts centred on 0, not on the agent's
    position. Individual networks still scale :math:`u` by a random :math:`\phi_{u2}`; only the
    average over initialisations vanishes (:func:`coordinate_slope`).

    *Symmetry.* Equivariant to rotations and reflections, :math:`u \mapsto u Q^\top`, with
    :math:`h'` invariant, but **not** to translations: shifting every :math:`u_i` by :math:`t`
    shifts :math:`u_i'` by :math:`t\, \phi_{u2}(m_i)`, not by :math:`t`. This is by design: the
    paper argues that translation equivariance is harmful for control (moving an agent by
    :math:`t` should not move its action by :math:`t`). The authors add that :math:`h` stays
    translation-invariant; here that holds for one layer's :math:`h'` (it sees only differences),
    but not after a second layer, because :math:`\phi_{u2}(m_i)` differs between nodes and so
    changes the distances :math:`\lVert u_i' - u_j' \rVert` that the next layer reads.

    Parameters
    ----------
    in_dim, hidden, out_dim, edge_dim, residual, coords_agg, normalize, tanh
        As in :class:`EGNNLayer`.

    Notes
    -----
    Deviations and unverified details:

    - The input of :math:`\phi_{u2}` (the aggregated message :math:`m_i`, rather than :math:`h_i`)
      comes from a secondary public summary of the paper (OpenReview ``MQIET1VfoV``), not from
      the paper's text or code (none is public): **UNVERIFIED**.
    - The zero final bias of :math:`\phi_{u2}` and keeping EGNN's gain-0.001 :math:`\phi_u` are our
      choices; they satisfy the theorem's assumption :math:`\mathbb{E}[\phi_{u2}] = 0`.

    Examples
    --------
    >>> g = complete_graph(6)
    >>> h, u = E2GN2Layer(3, hidden=8)(g, torch.randn(6, 3), torch.randn(6, 2))
    >>> h.shape, u.shape
    (torch.Size([6, 3]), torch.Size([6, 2]))
    """

    def __init__(self, in_dim: int, hidden: int = 32, out_dim: int | None = None, edge_dim: int = 0, residual: bool = True,
                 coords_agg: str = "mean", normalize: bool = False, tanh: bool = False):
        super().__init__(in_dim, hidden, out_dim, edge_dim, residual, coords_agg, normalize, tanh)
        self.phi_u2 = MLP(self.hidden, (self.hidden,), 1, "silu")  # \phi_{u2}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """As :class:`EGNNLayer`, plus a zero final bias in :math:`\\phi_{u2}` so that :math:`\\mathbb{E}[\\phi_{u2}] = 0`."""
        super().reset_parameters()
        if hasattr(self, "phi_u2"):
            nn.init.zeros_(self.phi_u2[2].bias)

    def coord_model(self, g: dgl.DGLGraph, u: torch.Tensor, coord_diff: torch.Tensor, m_ij: torch.Tensor, m_i: torch.Tensor) -> torch.Tensor:
        r""":math:`u_i' = u_i\, \phi_{u2}(m_i) + C \sum_j (u_i - u_j)\, \phi_u(m_{ij})`."""
        return u * self.phi_u2(m_i) + self._aggregate(g, coord_diff * self.phi_x(m_ij), self.coords_agg)


class GNNLayer(EGNNLayer):
    r"""The coordinate-blind "GNN" baseline of McClellan et al. (2024): raw coordinates as message inputs, no coordinate update.

    .. math::

        m_{ij} = \phi_e\big(h_i, h_j, x_i, x_j, a_{ij}\big), \qquad x_i' = x_i, \qquad
        h_i' = h_i + \phi_h\Big(h_i, \sum_{j \in \mathcal{N}(i)} m_{ij}\Big)

    with :math:`\phi_e` = Linear(2F+2D+E → H), SiLU, Linear(H → H), SiLU and :math:`\phi_h` as in
    :class:`EGNNLayer`. Permutation-equivariant, but :math:`h'` changes when the coordinates are
    rotated or shifted: the network has to learn the symmetry from data.

    Parameters
    ----------
    in_dim, hidden, out_dim, edge_dim, residual
        As in :class:`EGNNLayer`.
    coord_dim : int
        Size :math:`D` of :math:`x_i` (fixed, since :math:`\phi_e` reads it).

    Examples
    --------
    >>> g, x = complete_graph(6), torch.randn(6, 2)
    >>> h, x_out = GNNLayer(3, coord_dim=2, hidden=8)(g, torch.randn(6, 3), x)
    >>> h.shape, torch.equal(x_out, x)
    (torch.Size([6, 3]), True)
    """

    def __init__(self, in_dim: int, coord_dim: int = 2, hidden: int = 32, out_dim: int | None = None, edge_dim: int = 0,
                 residual: bool = True):
        super().__init__(in_dim, hidden, out_dim, edge_dim, residual)
        self.coord_dim = check_positive_int(coord_dim, "coord_dim")
        self.phi_e = MLP(2 * self.in_dim + 2 * self.coord_dim + self.edge_dim, (self.hidden,), self.hidden, "silu", "silu")  # \phi_e
        self.phi_x = None  # no coordinate update

    def extra_repr(self) -> str:
        return (f"in_dim={self.in_dim}, coord_dim={self.coord_dim}, hidden={self.hidden}, out_dim={self.out_dim}, "
                f"edge_dim={self.edge_dim}, residual={self.residual}")

    def edge_model(self, edges) -> dict:
        r""":math:`m_{ij} = \phi_e(h_i, h_j, x_i, x_j, a_{ij})`."""
        inputs = [edges.dst["h"], edges.src["h"], edges.dst["x"], edges.src["x"]] + ([edges.data["a"]] if self.edge_dim else [])
        return {"m_ij": self.phi_e(torch.cat(inputs, dim=-1))}  # (E, H)

    def coord_model(self, g, x, coord_diff, m_ij, m_i) -> torch.Tensor:
        """:math:`x_i' = x_i` (returned as is)."""
        return x


class EquivariantGraphNetwork(nn.Module):
    r"""A linear embedding of :math:`h`, then :math:`L` layers of EGNN, E2GN2 or the GNN baseline.

    .. math::

        h^0 = W h + b, \qquad (h^{l+1}, x^{l+1}) = \mathrm{Layer}_l(G, h^l, x^l), \quad l = 0, \dots, L - 1

    with :math:`x^0` the input coordinates, every layer :math:`H \to H` with its own weights and
    the outputs :math:`(h^L, x^L)` returned as they are, with no MLP after the last layer: in
    E2GN2's MARL setup an agent's action mean is its own :math:`x_i^L` and its value (or a discrete
    action's logits) is read from :math:`h^L`. ``kind`` picks the layer: ``"egnn"``
    (:class:`EGNNLayer`), ``"e2gn2"`` (:class:`E2GN2Layer`) or ``"gnn"`` (:class:`GNNLayer`, which
    returns :math:`x^L = x^0`).

    Parameters
    ----------
    in_dim : int
        Size of the input features :math:`h_i`.
    hidden : int
        Size :math:`H` of :math:`h^l` and of the messages (the paper: 32).
    layers : int
        Number of layers :math:`L`.
    kind : str
        ``"egnn"``, ``"e2gn2"`` or ``"gnn"``.
    coord_dim : int
        Size :math:`D` of :math:`x_i` (2 in MPE and SMACv2).

    Notes
    -----
    Shapes: ``forward(g, h, x)`` takes ``(N, in_dim)`` and ``(N, D)`` and returns ``(N, H)`` and
    ``(N, D)``. Use :func:`complete_graph` for fully connected agents (E2GN2's MPE graphs).

    Examples
    --------
    >>> g = complete_graph(3, batch=2)
    >>> h, x = EquivariantGraphNetwork(4, hidden=8, kind="e2gn2")(g, torch.randn(6, 4), torch.randn(6, 2))
    >>> h.shape, x.shape
    (torch.Size([6, 8]), torch.Size([6, 2]))
    """

    def __init__(self, in_dim: int, hidden: int = 32, layers: int = 2, kind: str = "egnn", coord_dim: int = 2):
        super().__init__()
        self.kind = check_choice(kind, KINDS, "kind")
        self.in_dim, self.hidden = check_positive_int(in_dim, "in_dim"), check_positive_int(hidden, "hidden")
        self.num_layers, self.coord_dim = check_positive_int(layers, "layers"), check_positive_int(coord_dim, "coord_dim")
        H, D = self.hidden, self.coord_dim
        self.embedding = nn.Linear(self.in_dim, H)  # h^0 = W h + b
        self.layers = nn.ModuleList(
            GNNLayer(H, D, H) if self.kind == "gnn" else (EGNNLayer if self.kind == "egnn" else E2GN2Layer)(H, H)
            for _ in range(self.num_layers)
        )

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, in_dim={self.in_dim}, hidden={self.hidden}, layers={self.num_layers}, coord_dim={self.coord_dim}"

    def forward(self, g: dgl.DGLGraph, h: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _check_inputs(g, h, x, self.in_dim, "EquivariantGraphNetwork", self.coord_dim)
        h = self.embedding(h)  # h^0: (N, H)
        for layer in self.layers:
            h, x = layer(g, h, x)  # h^{l+1}: (N, H), x^{l+1}: (N, D)
        return h, x


def complete_graph(num_nodes: int, batch: int = 1) -> dgl.DGLGraph:
    r"""``batch`` copies of the complete directed graph on ``num_nodes`` nodes, without self-loops, as one batched graph.

    Each component has :math:`n(n-1)` edges :math:`j \to i`, :math:`i \ne j`; nodes of copy
    :math:`b` are numbered :math:`bn, \dots, bn + n - 1`.

    Examples
    --------
    >>> g = complete_graph(3, batch=2)
    >>> g.batch_size, g.num_nodes(), g.num_edges()
    (2, 6, 12)
    """
    n, batch = check_positive_int(num_nodes, "num_nodes"), check_positive_int(batch, "batch")
    src, dst = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    off_diagonal = src != dst
    one = dgl.graph((src[off_diagonal], dst[off_diagonal]), num_nodes=n)
    return dgl.batch([one] * batch)


def coordinate_slope(net_factory: Callable[[], nn.Module], in_dim: int, num_nodes: int = 5, coord_dim: int = 2,
                     inits: int = 50, seed: int = 0) -> float:
    r"""The least-squares slope of :math:`x^L` on :math:`x^0` over random initialisations and inputs: the bias at initialisation.

    For each of ``inits`` seeds, builds a fresh network with ``net_factory()``, draws
    :math:`h \sim \mathcal{N}(0, 1)^{N \times F}` and :math:`x^0 \sim \mathcal{N}(0, 1)^{N \times D}`,
    runs it on :func:`complete_graph` ``(num_nodes)`` and pools every coordinate entry; returns

    .. math::

        \hat\beta = \frac{\sum_k (x^0_k - \bar x^0)(x^L_k - \bar x^L)}{\sum_k (x^0_k - \bar x^0)^2}.

    EGNN gives :math:`\hat\beta \approx 1` (:math:`\mathbb{E}[x^L] \approx x^0`), E2GN2
    :math:`\hat\beta \approx 0` (:math:`\mathbb{E}[u^L] \approx 0`), the GNN baseline exactly 1.
    The global random state is restored afterwards.

    Parameters
    ----------
    net_factory : callable
        ``net_factory()`` returns a module mapping ``(g, h, x)`` to ``(h', x')``.
    in_dim : int
        Width :math:`F` of ``h`` that the network expects.
    num_nodes, coord_dim : int
        :math:`N` and :math:`D`.
    inits : int
        Number of random initialisations (one input draw each).
    seed : int
        Initialisation ``k`` uses ``torch.manual_seed(seed + k)``.

    Examples
    --------
    >>> make = lambda: EquivariantGraphNetwork(3, hidden=16, kind="egnn")
    >>> round(coordinate_slope(make, in_dim=3, inits=5), 2)
    1.0
    """
    inits = check_positive_int(inits, "inits")
    g = complete_graph(num_nodes)
    x0s, xLs = [], []
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        for k in range(inits):
            torch.manual_seed(seed + k)
            net = net_factory()
            h, x0 = torch.randn(num_nodes, in_dim), torch.randn(num_nodes, coord_dim)
            x0s.append(x0.flatten())
            xLs.append(net(g, h, x0)[1].flatten())
    x0, xL = torch.cat(x0s).double(), torch.cat(xLs).double()
    x0c = x0 - x0.mean()
    return float((x0c * (xL - xL.mean())).sum() / (x0c**2).sum())
