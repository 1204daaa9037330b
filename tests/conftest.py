"""Shared fixtures for the gnnrl_lite unit tests: seeding and small random graphs of several kinds."""

import os

os.environ.setdefault("DGLBACKEND", "pytorch")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gymnasium.spaces import GraphInstance  # noqa: E402

import dgl  # noqa: E402

from gnnrl_lite.experiments import seed_everything  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def rng() -> np.random.Generator:
    """Seed random, NumPy, PyTorch and DGL with 0 before every test; return a NumPy Generator."""
    return seed_everything(0)


def edge_list(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges ``(src, dst)`` of a graph of ``kind`` on ``n`` nodes."""
    idx = np.arange(n)
    if kind == "path":
        src, dst = idx[:-1], idx[1:]
    elif kind == "cycle":
        src, dst = idx, (idx + 1) % n
    elif kind == "star":  # centre 0 <-> leaves, both directions
        leaves = idx[1:]
        src, dst = np.concatenate([np.zeros_like(leaves), leaves]), np.concatenate([leaves, np.zeros_like(leaves)])
    elif kind == "complete":
        u, v = np.meshgrid(idx, idx, indexing="ij")
        off = u != v
        src, dst = u[off], v[off]
    elif kind == "random":  # may contain self-loops and repeated edges; some nodes may have no in-edges
        m = 2 * n
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    elif kind == "no_edges":
        src = dst = np.zeros(0, np.int64)
    else:  # pragma: no cover - test helper misuse
        raise ValueError(kind)
    return np.asarray(src, np.int64), np.asarray(dst, np.int64)


@pytest.fixture
def make_graph(rng):
    """Factory: ``make_graph(kind, n, node_dim=3, edge_dim=0)`` -> DGLGraph with ``ndata['x']`` (and ``edata['e']``)."""

    def _make(kind: str, n: int, node_dim: int = 3, edge_dim: int = 0) -> dgl.DGLGraph:
        src, dst = edge_list(kind, n, rng)
        g = dgl.graph((torch.as_tensor(src), torch.as_tensor(dst)), num_nodes=n)
        g.ndata["x"] = torch.randn(n, node_dim)
        if edge_dim:
            g.edata["e"] = torch.randn(g.num_edges(), edge_dim)
        return g

    return _make


@pytest.fixture
def make_instance(rng):
    """Factory: ``make_instance(kind, n, node_dim=3, edge_dim=0)`` -> a ``GraphInstance``."""

    def _make(kind: str, n: int, node_dim: int = 3, edge_dim: int = 0) -> GraphInstance:
        src, dst = edge_list(kind, n, rng)
        nodes = rng.standard_normal((n, node_dim)).astype(np.float32)
        edges = rng.standard_normal((len(src), edge_dim)).astype(np.float32) if edge_dim else np.zeros(len(src), np.int64)
        return GraphInstance(nodes=nodes, edges=edges, edge_links=np.stack([src, dst], axis=1))

    return _make
