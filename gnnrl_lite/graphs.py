r"""Graph observations: ``gymnasium.spaces.Graph`` <-> ``DGLGraph``, batching, and action masks.

An environment returns a :class:`gymnasium.spaces.GraphInstance` ``(nodes, edges, edge_links)``;
a policy wants a (batched) :class:`dgl.DGLGraph`. This module is the bridge, with one set of
conventions used throughout the book:

========================  ==========================  =============================================
where                     key / shape                 meaning
========================  ==========================  =============================================
``instance.nodes``        ``(N, D_v)`` float          node features :math:`x_v`
``instance.edges``        ``(E, D_e)`` float          edge features :math:`e_{uv}`; ``(E,)`` zeros
                                                      from a ``Discrete(1)`` space mean no features
``instance.edge_links``   ``(E, 2)`` int              directed edges ``(u, v)``, sender then receiver
``g.ndata["x"]``          ``(N, D_v)`` float32        node features
``g.edata["e"]``          ``(E, D_e)`` float32        edge features (absent without edge features)
``g.ndata["mask"]``       ``(N,)`` bool               valid node actions (optional, see below)
``g.edata["mask"]``       ``(E,)`` bool               valid edge actions (optional)
========================  ==========================  =============================================

**Action masks with no fixed maximum size.** When the action is "pick a node" (or an edge,
or a neighbour of the agent's node), the environment appends one 0/1 column to the node (edge)
features: the last column is the mask. :func:`to_dgl` with ``node_mask=True`` (``edge_mask=True``)
moves it into ``g.ndata["mask"]`` (``g.edata["mask"]``). The mask therefore always has exactly one
entry per node of the current graph, whatever its size; :func:`pad_by_graph` turns per-node
scores of a batch into a ``(B, N_max)`` table for a masked softmax, with ``N_max`` the largest
graph *in the batch*, not a global constant.

To reuse: copy this file and ``checks.py``; needs numpy, torch, dgl, gymnasium.
Derived in Chapter 1, section "Batching graphs".

References
----------
Towers et al., *Gymnasium: A Standard Interface for Reinforcement Learning Environments*, 2024.
Wang et al., *Deep Graph Library*, 2019.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

import dgl

from .checks import check_finite

__all__ = [
    "graph_space",
    "to_dgl",
    "from_dgl",
    "batch_graphs",
    "collate_obs",
    "pad_by_graph",
    "graph_ids",
    "neighbour_mask",
    "with_mask_column",
]


def graph_space(node_dim: int, edge_dim: int = 0, low: float = -np.inf, high: float = np.inf) -> spaces.Graph:
    """Make a ``gymnasium.spaces.Graph`` with ``node_dim`` float node features.

    Parameters
    ----------
    node_dim : int
        Number of features per node, :math:`D_v` (including a mask column if the env uses one).
    edge_dim : int
        Number of features per edge, :math:`D_e`. ``0`` means structure only: Gymnasium rejects
        a graph with edges when ``edge_space`` is ``None``, so we use a ``Discrete(1)`` placeholder
        and the edges' "features" are zeros of shape ``(E,)``.
    low, high : float
        Bounds of every feature.

    Examples
    --------
    >>> graph_space(3).node_space.shape
    (3,)
    """
    if node_dim < 1:
        raise ValueError(f"node_dim must be at least 1; got {node_dim}")
    if edge_dim < 0:
        raise ValueError(f"edge_dim must be non-negative; got {edge_dim}")
    node_space = spaces.Box(low, high, shape=(node_dim,), dtype=np.float32)
    edge_space = spaces.Discrete(1) if edge_dim == 0 else spaces.Box(low, high, shape=(edge_dim,), dtype=np.float32)
    return spaces.Graph(node_space=node_space, edge_space=edge_space)


def _split_mask(feat: torch.Tensor, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    if feat.ndim != 2 or feat.shape[1] < 1:
        raise ValueError(f"{what} features must have shape ({what[0].upper()}, D) with a mask column; got {tuple(feat.shape)}")
    mask_col = feat[:, -1]
    if not bool(((mask_col == 0) | (mask_col == 1)).all()):
        raise ValueError(f"the last {what} feature column is used as the action mask and must be 0 or 1")
    return feat[:, :-1], mask_col.bool()


def to_dgl(instance: GraphInstance, *, node_mask: bool = False, edge_mask: bool = False) -> dgl.DGLGraph:
    """Convert one ``GraphInstance`` into a ``DGLGraph`` following the module's conventions.

    Parameters
    ----------
    instance : GraphInstance
        ``nodes`` of shape ``(N, D_v)``, ``edge_links`` of shape ``(E, 2)`` (sender, receiver),
        ``edges`` of shape ``(E, D_e)`` or ``(E,)`` for structure-only graphs.
    node_mask, edge_mask : bool
        Treat the last node (edge) feature column as a 0/1 action mask and store it as a boolean
        ``g.ndata["mask"]`` (``g.edata["mask"]``) instead of a feature.

    Returns
    -------
    dgl.DGLGraph
        ``N`` nodes with ``ndata["x"]`` of shape ``(N, D_v)`` and, if the instance has edge
        features, ``edata["e"]`` of shape ``(E, D_e)``.

    Raises
    ------
    ValueError
        If the graph has zero nodes, features are not 2-D, edge links are out of range, or the
        number of edge features does not match the number of edges.

    Examples
    --------
    >>> inst = GraphInstance(np.ones((3, 2), np.float32), np.zeros(2, np.int64), np.array([[0, 1], [1, 2]]))
    >>> g = to_dgl(inst)
    >>> g.num_nodes(), g.num_edges(), tuple(g.ndata["x"].shape)
    (3, 2, (3, 2))
    """
    return _assemble([_parts(instance, node_mask, edge_mask)])


def _parts(instance: GraphInstance, node_mask: bool, edge_mask: bool) -> dict:
    """Validate one instance and return its tensors: ``x``, ``links``, optional ``e``, ``nmask``, ``emask``."""
    if not isinstance(instance, GraphInstance):
        raise TypeError(f"expected a gymnasium GraphInstance; got {type(instance).__name__}")
    nodes = np.asarray(instance.nodes)
    if nodes.ndim == 1:
        nodes = nodes[:, None]
    if nodes.ndim != 2:
        raise ValueError(f"node features must have shape (N, D); got {nodes.shape}")
    n = nodes.shape[0]
    if n == 0:
        raise ValueError("graph has zero nodes; a GNN needs at least one node to act on")
    links = np.zeros((0, 2), np.int64) if instance.edge_links is None else np.asarray(instance.edge_links)
    if links.size == 0:
        links = links.reshape(0, 2)
    if links.ndim != 2 or links.shape[1] != 2:
        raise ValueError(f"edge_links must have shape (E, 2); got {links.shape}")
    if not np.issubdtype(links.dtype, np.integer):
        raise TypeError(f"edge_links must be integers; got dtype {links.dtype}")
    if links.size and (links.min() < 0 or links.max() >= n):
        raise ValueError(f"edge_links refer to node ids outside [0, {n}); got range [{links.min()}, {links.max()}]")
    x = torch.as_tensor(nodes, dtype=torch.float32)
    check_finite(x, "node features")
    out = {"n": n, "links": torch.as_tensor(links, dtype=torch.int64), "e": None, "nmask": None, "emask": None}
    if node_mask:
        x, out["nmask"] = _split_mask(x, "node")
    out["x"] = x
    edges = None if instance.edges is None else np.asarray(instance.edges)
    if edges is not None and edges.ndim == 2:
        if edges.shape[0] != links.shape[0]:
            raise ValueError(f"edges has {edges.shape[0]} rows but edge_links has {links.shape[0]}; they must match")
        e = torch.as_tensor(edges, dtype=torch.float32)
        check_finite(e, "edge features")
        if edge_mask:
            e, out["emask"] = _split_mask(e, "edge")
        if e.shape[1] > 0:
            out["e"] = e
    elif edge_mask:
        raise ValueError("edge_mask=True needs edge features of shape (E, D) whose last column is the mask")
    elif edges is not None and edges.shape[0] != links.shape[0]:
        raise ValueError(f"edges has {edges.shape[0]} entries but edge_links has {links.shape[0]}; they must match")
    return out


def _assemble(parts: list[dict]) -> dgl.DGLGraph:
    """One (batched, if several) DGLGraph from validated parts: nodes and edges concatenated graph by graph.

    The same node and edge order as ``dgl.batch`` of the single graphs, built with one ``dgl.graph``
    call instead of one per graph.
    """
    sizes = torch.tensor([p["n"] for p in parts], dtype=torch.int64)
    offsets = torch.cumsum(sizes, 0) - sizes
    links = torch.cat([p["links"] + off for p, off in zip(parts, offsets.tolist())])
    g = dgl.graph((links[:, 0], links[:, 1]), num_nodes=int(sizes.sum()))
    g.ndata["x"] = torch.cat([p["x"] for p in parts])
    if parts[0]["nmask"] is not None:
        g.ndata["mask"] = torch.cat([p["nmask"] for p in parts])
    for key, name in (("e", "e"), ("emask", "mask")):
        values = [p[key] for p in parts if p[key] is not None]
        if values:
            g.edata[name] = torch.cat(values)
    if len(parts) > 1:
        g.set_batch_num_nodes(sizes)
        g.set_batch_num_edges(torch.tensor([len(p["links"]) for p in parts], dtype=torch.int64))
    return g


def from_dgl(g: dgl.DGLGraph, node_key: str = "x", edge_key: str = "e") -> GraphInstance:
    """Convert a ``DGLGraph`` back into a ``GraphInstance`` (the inverse of :func:`to_dgl`).

    Masks stored in ``ndata["mask"]``/``edata["mask"]`` are appended as the last feature column.
    Without edge features, ``edges`` is ``(E,)`` zeros, matching :func:`graph_space` with ``edge_dim=0``.
    """
    if node_key not in g.ndata:
        raise KeyError(f"graph has no node data {node_key!r}; available: {list(g.ndata.keys())}")
    nodes = g.ndata[node_key].detach().cpu().float()
    if "mask" in g.ndata:
        nodes = torch.cat([nodes, g.ndata["mask"].float()[:, None]], dim=1)
    u, v = g.edges()
    links = torch.stack([u, v], dim=1).cpu().numpy().astype(np.int64)
    if edge_key in g.edata:
        edges = g.edata[edge_key].detach().cpu().float()
        if "mask" in g.edata:
            edges = torch.cat([edges, g.edata["mask"].float()[:, None]], dim=1)
        edges = edges.numpy()
    else:
        edges = np.zeros(g.num_edges(), dtype=np.int64)
    return GraphInstance(nodes=nodes.numpy(), edges=edges, edge_links=links)


def batch_graphs(instances: Sequence[GraphInstance], *, node_mask: bool = False, edge_mask: bool = False) -> dgl.DGLGraph:
    """Batch graphs of different sizes into one ``DGLGraph`` (a block-diagonal union).

    Node ``v`` of graph ``b`` becomes node ``offset_b + v`` with ``offset_b`` the number of nodes in
    graphs ``0..b-1``; ``g.batch_num_nodes()`` of shape ``(B,)`` keeps the sizes so readouts and
    masked softmaxes can work per graph.

    Raises
    ------
    ValueError
        If the list is empty or the graphs' node (edge) feature sizes differ; the message names the
        first graph whose size differs.
    """
    if len(instances) == 0:
        raise ValueError("cannot batch an empty list of graphs")
    parts = [_parts(inst, node_mask, edge_mask) for inst in instances]
    d0 = parts[0]["x"].shape[1]
    first_e = None  # (index, D_e) of the first graph with edges: edgeless graphs carry no edge features to compare
    for i, p in enumerate(parts):
        if p["x"].shape[1] != d0:
            raise ValueError(f"node features of graph {i} have size {p['x'].shape[1]}, graph 0 has {d0}; all graphs in a batch need the same D_v")
        if len(p["links"]) == 0:
            continue
        ei = p["e"].shape[1] if p["e"] is not None else 0
        if first_e is None:
            first_e = (i, ei)
        elif ei != first_e[1]:
            raise ValueError(f"edge features of graph {i} have size {ei}, graph {first_e[0]} has {first_e[1]}; all graphs in a batch need the same D_e")
    g = _assemble(parts)
    if len(parts) == 1:  # a batch of one still reports batch_size 1 with its sizes
        g.set_batch_num_nodes(torch.tensor([parts[0]["n"]]))
        g.set_batch_num_edges(torch.tensor([len(parts[0]["links"])]))
    return g


def collate_obs(items, *, node_mask: bool = False, edge_mask: bool = False):
    """Turn a list of observations into one policy input.

    ``GraphInstance`` items become one batched ``DGLGraph`` (:func:`batch_graphs`); array items
    become a float32 tensor of shape ``(B, *obs_shape)``. Non-finite values raise ``ValueError``.
    PPO calls ``policy.collate`` if the policy defines one, else this function.
    """
    if isinstance(items, np.ndarray):
        return check_finite(torch.as_tensor(items, dtype=torch.float32), "observation")
    items = list(items)
    if len(items) == 0:
        raise ValueError("cannot collate an empty list of observations")
    if isinstance(items[0], GraphInstance):
        return batch_graphs(items, node_mask=node_mask, edge_mask=edge_mask)
    return check_finite(torch.as_tensor(np.stack(items), dtype=torch.float32), "observation")


def graph_ids(sizes: torch.Tensor) -> torch.Tensor:
    """Index of the graph each row belongs to, shape ``(sizes.sum(),)``.

    ``sizes`` ``(B,)`` is ``g.batch_num_nodes()`` (or ``g.batch_num_edges()``); row ``i`` of a
    batched graph's node (edge) data belongs to graph ``graph_ids(sizes)[i]``.

    >>> graph_ids(torch.tensor([2, 1, 3]))
    tensor([0, 0, 1, 2, 2, 2])
    """
    sizes = torch.as_tensor(sizes, dtype=torch.int64)
    if sizes.ndim != 1 or (sizes < 0).any():
        raise ValueError(f"sizes must be a (B,) tensor of non-negative counts; got {sizes.tolist()}")
    return torch.repeat_interleave(torch.arange(sizes.numel()), sizes)


def pad_by_graph(values: torch.Tensor, sizes: torch.Tensor, fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Scatter per-node (or per-edge) values of a batch into a padded ``(B, N_max, ...)`` table.

    Parameters
    ----------
    values : torch.Tensor
        Shape ``(N, ...)`` with ``N = sizes.sum()``, e.g. node scores of a batched graph.
    sizes : torch.Tensor
        Shape ``(B,)``, e.g. ``g.batch_num_nodes()``.
    fill : float
        Value for padding slots.

    Returns
    -------
    padded : torch.Tensor
        Shape ``(B, N_max, ...)`` with ``N_max = sizes.max()`` (the largest graph in *this* batch).
    valid : torch.Tensor
        Bool, shape ``(B, N_max)``: ``True`` where a slot holds a real node.

    Examples
    --------
    >>> p, m = pad_by_graph(torch.arange(5.), torch.tensor([2, 3]))
    >>> p
    tensor([[0., 1., 0.],
            [2., 3., 4.]])
    """
    sizes = torch.as_tensor(sizes, dtype=torch.int64)
    if sizes.ndim != 1:
        raise ValueError(f"sizes must have shape (B,); got {tuple(sizes.shape)}")
    if int(sizes.sum()) != values.shape[0]:
        raise ValueError(f"values has {values.shape[0]} rows but sizes sum to {int(sizes.sum())}")
    b, n_max = sizes.numel(), int(sizes.max()) if sizes.numel() else 0
    graph_id = graph_ids(sizes)  # (N,)
    offsets = torch.cumsum(sizes, 0) - sizes  # (B,)
    local = torch.arange(values.shape[0]) - offsets[graph_id]  # (N,)
    padded = values.new_full((b, n_max) + tuple(values.shape[1:]), fill)
    padded[graph_id, local] = values
    valid = torch.zeros(b, n_max, dtype=torch.bool)
    valid[graph_id, local] = True
    return padded, valid


def neighbour_mask(g: dgl.DGLGraph, node: int) -> torch.Tensor:
    """Bool mask of shape ``(N,)`` that is ``True`` for the successors of ``node`` (neighbours as actions).

    Raises ``ValueError`` if ``node`` is out of range or has no neighbours (no valid action).
    """
    n = g.num_nodes()
    if not 0 <= node < n:
        raise ValueError(f"node {node} is out of range for a graph with {n} nodes")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[g.successors(node)] = True
    if not bool(mask.any()):
        raise ValueError(f"node {node} has no neighbours: the action mask would have no valid action")
    return mask


def with_mask_column(features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Append a 0/1 mask as the last column of ``features`` (the env side of the mask convention).

    ``features`` has shape ``(N, D)`` and ``mask`` shape ``(N,)``; returns ``(N, D + 1)`` float32.
    """
    features = np.asarray(features, dtype=np.float32)
    mask = np.asarray(mask)
    if features.ndim != 2 or mask.shape != (features.shape[0],):
        raise ValueError(f"features must be (N, D) and mask (N,); got {features.shape} and {mask.shape}")
    return np.concatenate([features, mask.astype(np.float32)[:, None]], axis=1)
