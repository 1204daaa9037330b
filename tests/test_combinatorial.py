"""Random graphs, exact solvers (milp) against brute force, and the heuristics' guarantees."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gnnrl_lite import combinatorial as co


def _brute_force(n, edges, feasible):
    for k in range(n + 1):
        for nodes in itertools.combinations(range(n), k):
            if feasible(n, edges, nodes):
                return k
    raise AssertionError("no feasible set")


@pytest.mark.parametrize("seed", range(6))
def test_exact_solvers_match_brute_force(seed):
    """The integer programs return feasible sets of the brute-force minimum size on small graphs."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 9))
    edges = co.erdos_renyi(n, 0.4, rng)
    cover = co.min_vertex_cover(n, edges)
    assert co.is_vertex_cover(n, edges, cover) and len(cover) == _brute_force(n, edges, co.is_vertex_cover)
    mis = co.min_maximal_independent_set(n, edges)
    assert co.is_maximal_independent_set(n, edges, mis) and len(mis) == _brute_force(n, edges, co.is_maximal_independent_set)


@pytest.mark.parametrize("seed", range(5))
def test_heuristics_are_feasible_and_within_their_bounds(seed):
    """Greedy and matching covers are covers; the matching cover is at most twice the optimum; greedy MIS is maximal independent."""
    rng = np.random.default_rng(seed)
    n, edges = 40, co.barabasi_albert(40, 2, rng)
    opt = len(co.min_vertex_cover(n, edges))
    for heuristic in (co.greedy_vertex_cover, co.matching_vertex_cover):
        cover = heuristic(n, edges)
        assert co.is_vertex_cover(n, edges, cover) and opt <= len(cover)
    assert len(co.matching_vertex_cover(n, edges)) <= 2 * opt
    mis = co.greedy_independent_set(n, edges)
    assert co.is_maximal_independent_set(n, edges, mis) and len(mis) >= len(co.min_maximal_independent_set(n, edges))


def test_generators_give_simple_graphs_of_the_expected_size():
    rng = np.random.default_rng(0)
    ba = co.barabasi_albert(50, 3, rng)
    assert len(ba) == 3 * (50 - 3) and (ba[:, 0] < ba[:, 1]).all() and len(np.unique(ba, axis=0)) == len(ba)
    er = co.erdos_renyi(200, 0.1, rng)
    assert (er[:, 0] < er[:, 1]).all() and abs(len(er) / (200 * 199 / 2) - 0.1) < 0.01
    assert len(co.erdos_renyi(10, 0.0, rng)) == 0 and len(co.erdos_renyi(5, 1.0, rng)) == 10


def test_feasibility_checks_reject_bad_sets():
    edges = np.array([[0, 1], [1, 2]])
    assert co.is_vertex_cover(3, edges, [1]) and not co.is_vertex_cover(3, edges, [0])
    assert co.is_maximal_independent_set(3, edges, [1]) and co.is_maximal_independent_set(3, edges, [0, 2])
    assert not co.is_maximal_independent_set(3, edges, [0, 1]), "not independent"
    assert not co.is_maximal_independent_set(3, edges, [0]), "not maximal: node 2 has no chosen neighbour"
    assert len(co.min_vertex_cover(3, np.zeros((0, 2)))) == 0 and co.min_maximal_independent_set(3, np.zeros((0, 2))).tolist() == [0, 1, 2]


@pytest.mark.parametrize("call, match", [
    (lambda: co.min_vertex_cover(3, [[0, 3]]), "in \\[0, 3\\)"), (lambda: co.min_vertex_cover(3, [[1, 1]]), "self-loops"),
    (lambda: co.greedy_vertex_cover(0, []), "positive"), (lambda: co.erdos_renyi(5, 1.5, np.random.default_rng()), "p must"),
    (lambda: co.barabasi_albert(5, 5, np.random.default_rng()), "1 <= m < n"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
