r"""Random graphs and reference solutions for the combinatorial problems of Chapter 4.

Graphs are given as ``(n, edges)`` with ``edges`` an ``(m, 2)`` integer array of undirected edges
``u < v`` (no self-loops, no duplicates).

Minimum vertex cover (Khalil et al., 2017): a smallest set :math:`C` touching every edge,

.. math::

    \min_{x \in \{0,1\}^n} \sum_v x_v \quad \text{s.t.} \quad x_u + x_v \ge 1 \;\; \forall (u, v) \in E .

Minimum maximal independent set, the pure equilibrium of the best-shot public goods game with
fewest investors (Darvariu et al., 2021): a smallest set :math:`S` with no edge inside it
(independent) that every other node touches (maximal, i.e. dominating),

.. math::

    \min_{x \in \{0,1\}^n} \sum_v x_v \quad \text{s.t.} \quad x_u + x_v \le 1 \;\; \forall (u, v) \in E, \qquad
    x_v + \sum_{u \in \mathcal N(v)} x_u \ge 1 \;\; \forall v .

The exact solvers are integer programs solved with ``scipy.optimize.milp`` (HiGHS), fine for
graphs of a few hundred nodes. Minimum spanning trees (Chapter 4's edge-selection problem) come from
Kruskal's algorithm, which is exact. The heuristics are the usual baselines: greedy maximum degree and
the maximal-matching 2-approximation for vertex cover, and greedy maximum coverage for the
independent set.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

__all__ = ["erdos_renyi", "barabasi_albert", "is_vertex_cover", "is_maximal_independent_set", "min_vertex_cover",
           "greedy_vertex_cover", "matching_vertex_cover", "min_maximal_independent_set", "greedy_independent_set",
           "minimum_spanning_tree_weight"]


def _check_graph(n: int, edges: np.ndarray) -> np.ndarray:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) and (edges.min() < 0 or edges.max() >= n):
        raise ValueError(f"edges must join nodes in [0, {n})")
    if (edges[:, 0] == edges[:, 1]).any():
        raise ValueError("edges must not contain self-loops")
    return edges


def _canonical(edges) -> np.ndarray:
    edges = np.sort(np.asarray(list(edges), dtype=np.int64).reshape(-1, 2), axis=1)
    return np.unique(edges, axis=0) if len(edges) else edges


def erdos_renyi(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Edges ``(m, 2)`` of a :math:`G(n, p)` graph: each of the :math:`\\binom n2` pairs independently with probability ``p``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1]; got {p}")
    _check_graph(n, np.zeros((0, 2)))
    u, v = np.triu_indices(n, k=1)
    keep = rng.random(len(u)) < p
    return np.stack([u[keep], v[keep]], axis=1).astype(np.int64)


def barabasi_albert(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Edges of a Barabási–Albert graph: each new node joins ``m`` existing nodes, chosen with probability proportional to degree.

    Starts from a star on ``m + 1`` nodes, so the graph is connected and has ``m (n - m)`` edges.
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m < n:
        raise ValueError(f"need 1 <= m < n; got m={m}, n={n}")
    edges = [(0, v) for v in range(1, m + 1)]
    ends = [x for e in edges for x in e]  # every edge end once: sampling from it is degree-proportional
    for v in range(m + 1, n):
        targets: set[int] = set()
        while len(targets) < m:
            targets.add(int(ends[rng.integers(len(ends))]))
        for t in targets:
            edges.append((t, v))
            ends += [t, v]
    return _canonical(edges)


def is_vertex_cover(n: int, edges: np.ndarray, nodes) -> bool:
    """Whether ``nodes`` touches every edge."""
    edges = _check_graph(n, edges)
    chosen = np.zeros(n, dtype=bool)
    chosen[list(nodes)] = True
    return bool((chosen[edges[:, 0]] | chosen[edges[:, 1]]).all())


def is_maximal_independent_set(n: int, edges: np.ndarray, nodes) -> bool:
    """Whether ``nodes`` is independent (no edge inside) and maximal (every other node has a neighbour in it)."""
    edges = _check_graph(n, edges)
    chosen = np.zeros(n, dtype=bool)
    chosen[list(nodes)] = True
    if (chosen[edges[:, 0]] & chosen[edges[:, 1]]).any():
        return False
    dominated = chosen.copy()
    dominated[edges[chosen[edges[:, 0]], 1]] = True
    dominated[edges[chosen[edges[:, 1]], 0]] = True
    return bool(dominated.all())


def _solve_binary(n: int, rows, cols, lower, upper, num_rows: int) -> np.ndarray:
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_rows, n))
    res = milp(c=np.ones(n), constraints=LinearConstraint(a, lower, upper), integrality=np.ones(n), bounds=Bounds(0, 1))
    if not res.success:
        raise RuntimeError(f"milp failed: {res.message}")
    return np.flatnonzero(res.x > 0.5)


def min_vertex_cover(n: int, edges: np.ndarray) -> np.ndarray:
    """An optimal vertex cover (sorted node indices), from the integer program in the module docstring."""
    edges = _check_graph(n, edges)
    if len(edges) == 0:
        return np.zeros(0, dtype=np.int64)
    m = len(edges)
    rows = np.repeat(np.arange(m), 2)
    return _solve_binary(n, rows, edges.reshape(-1), np.ones(m), np.full(m, np.inf), m)


def greedy_vertex_cover(n: int, edges: np.ndarray) -> np.ndarray:
    """Repeatedly take the node that covers the most uncovered edges (lowest index on ties)."""
    edges = _check_graph(n, edges)
    left, cover = edges, []
    while len(left):
        v = int(np.argmax(np.bincount(left.reshape(-1), minlength=n)))
        cover.append(v)
        left = left[(left[:, 0] != v) & (left[:, 1] != v)]
    return np.array(sorted(cover), dtype=np.int64)


def matching_vertex_cover(n: int, edges: np.ndarray) -> np.ndarray:
    """Both ends of a maximal matching (edges scanned in order): a cover at most twice the optimum."""
    edges = _check_graph(n, edges)
    matched = np.zeros(n, dtype=bool)
    for u, v in edges:
        if not matched[u] and not matched[v]:
            matched[u] = matched[v] = True
    return np.flatnonzero(matched)


def min_maximal_independent_set(n: int, edges: np.ndarray) -> np.ndarray:
    """A smallest maximal independent set (sorted node indices), from the integer program in the module docstring."""
    edges = _check_graph(n, edges)
    m = len(edges)
    # rows 0..m-1: x_u + x_v <= 1; rows m..m+n-1: x_v + sum of neighbours >= 1
    rows = np.concatenate([np.repeat(np.arange(m), 2), m + np.arange(n), m + edges[:, 0], m + edges[:, 1]])
    cols = np.concatenate([edges.reshape(-1), np.arange(n), edges[:, 1], edges[:, 0]])
    lower = np.concatenate([np.full(m, -np.inf), np.ones(n)])
    upper = np.concatenate([np.ones(m), np.full(n, np.inf)])
    return _solve_binary(n, rows, cols, lower, upper, m + n)


def greedy_independent_set(n: int, edges: np.ndarray) -> np.ndarray:
    """Repeatedly take the valid node (not chosen, no chosen neighbour) that covers the most uncovered nodes.

    A node covers itself and its neighbours; ties go to the lowest index. The result is a maximal
    independent set.
    """
    edges = _check_graph(n, edges)
    adj = [[] for _ in range(n)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    covered, chosen = np.zeros(n, dtype=bool), []
    while not covered.all():
        gain = [(-1 if covered[v] else 1 + sum(not covered[u] for u in adj[v])) for v in range(n)]
        v = int(np.argmax(gain))
        chosen.append(v)
        covered[v] = True
        covered[adj[v]] = True
    return np.array(sorted(chosen), dtype=np.int64)


def minimum_spanning_tree_weight(n: int, edges: np.ndarray, weights: np.ndarray) -> float:
    """Weight of a minimum spanning tree (Kruskal with union-find); raises if the graph is not connected."""
    edges = _check_graph(n, edges)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(edges),):
        raise ValueError(f"weights must have shape ({len(edges)},); got {weights.shape}")
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    total, joined = 0.0, 0
    for i in np.argsort(weights, kind="stable"):
        ru, rv = find(int(edges[i, 0])), find(int(edges[i, 1]))
        if ru != rv:
            parent[ru] = rv
            total += float(weights[i])
            joined += 1
    if joined != n - 1:
        raise ValueError("the graph is not connected: it has no spanning tree")
    return total
