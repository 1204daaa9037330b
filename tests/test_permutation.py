"""Permutation invariance and equivariance of gnnrl_lite's GNNs over many random graphs (Chapter 2).

Relabelling the nodes of a graph with a permutation must permute node-level outputs the same way
(equivariance) and leave graph-level readouts unchanged (invariance); an MLP on the flattened
adjacency matrix has no such property.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dgl

from gnnrl_lite.nn import MLP, MPNNEncoder, readout


def _random_graph(rng, n):
    m = int(rng.integers(n, 3 * n + 1))
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    return src, dst


def _relabel(src, dst, perm, n):
    """The same graph with node v renamed perm[v]."""
    return dgl.graph((torch.as_tensor(perm[src]), torch.as_tensor(perm[dst])), num_nodes=n)


@pytest.mark.parametrize("n", [3, 7, 15, 40])
@pytest.mark.parametrize("aggregation", ["sum", "mean", "max"])
def test_encoder_is_equivariant_and_readouts_invariant(n, aggregation):
    """For 10 random graphs and permutations each: h(PG, PX) = P h(G, X), and sum/mean/max readouts are unchanged."""
    rng = np.random.default_rng(n)
    torch.manual_seed(n)
    enc = MPNNEncoder(3, 16, layers=2, edge_dim=2, aggregation=aggregation)
    for _ in range(10):
        src, dst = _random_graph(rng, n)
        perm = rng.permutation(n)
        x = torch.randn(n, 3)
        e = torch.randn(len(src), 2)
        g = dgl.graph((torch.as_tensor(src), torch.as_tensor(dst)), num_nodes=n)
        g_perm = _relabel(src, dst, perm, n)
        x_perm = torch.empty_like(x)
        x_perm[torch.as_tensor(perm)] = x  # node perm[v] of the new graph carries x_v
        with torch.no_grad():
            h, h_perm = enc(g, x, e), enc(g_perm, x_perm, e)
        torch.testing.assert_close(h_perm[torch.as_tensor(perm)], h, atol=1e-5, rtol=1e-5,
                                   msg="node embeddings must be permutation-equivariant")
        for kind in ("sum", "mean", "max"):
            torch.testing.assert_close(readout(g_perm, h_perm, kind), readout(g, h, kind), atol=1e-5, rtol=1e-5,
                                       msg=f"{kind} readout must be permutation-invariant")


@pytest.mark.parametrize("n", [5, 8, 12])
def test_mlp_on_flattened_adjacency_is_not_invariant(n):
    """An MLP on vec(A) changes its output under a relabelling that changes A (for some of 10 permutations)."""
    rng = np.random.default_rng(100 + n)
    torch.manual_seed(n)
    mlp = MLP(n * n, (64, 64), 1)
    for _ in range(5):
        src, dst = _random_graph(rng, n)
        A = np.zeros((n, n), np.float32)
        A[src, dst] = 1
        gaps = []
        for _ in range(10):
            perm = rng.permutation(n)
            A_perm = np.zeros_like(A)
            A_perm[perm[src], perm[dst]] = 1
            if np.array_equal(A, A_perm):
                continue
            with torch.no_grad():
                gaps.append(abs(mlp(torch.as_tensor(A).reshape(1, -1)) - mlp(torch.as_tensor(A_perm).reshape(1, -1))).item())
        assert max(gaps) > 1e-3, "an MLP on the flattened adjacency matrix must depend on the node order"
