"""VertexCoverEnv and PublicGoodsEnv: API, masks, dynamics, and agreement with the reference solutions."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from gnnrl_lite import combinatorial as co
from gnnrl_lite.envs import PublicGoodsEnv, VertexCoverEnv


@pytest.mark.parametrize("env_cls", [VertexCoverEnv, PublicGoodsEnv])
@pytest.mark.parametrize("graph", ["er", "ba"])
def test_envs_pass_the_env_checker(env_cls, graph):
    check_env(env_cls(graph=graph), skip_render_check=True)


def _play(env, nodes):
    total, info = 0.0, {}
    for v in nodes:
        _, reward, terminated, truncated, info = env.step(v)
        total += reward
        if terminated or truncated:
            break
    return total, terminated, info


@pytest.mark.parametrize("seed", range(4))
def test_vertex_cover_playing_the_optimum_ends_with_minus_its_size(seed):
    """Choosing an optimal cover's nodes terminates exactly at the last one, with return -|C*|; the residual graph shrinks."""
    env = VertexCoverEnv(12, 18, graph="ba" if seed % 2 else "er", degree=4.0)
    obs, info = env.reset(seed=seed)
    assert len(obs.edge_links) == 2 * info["num_edges"] and obs.nodes[:, 2].all()
    cover = co.min_vertex_cover(env.n, env.edges)
    total, terminated, step_info = _play(env, cover)
    assert terminated and total == -len(cover) and env.solution().tolist() == sorted(cover) and step_info["set_size"] == len(cover)
    assert env._get_obs().edge_links.size == 0, "no uncovered edge is left"


@pytest.mark.parametrize("seed", range(4))
def test_public_goods_greedy_in_the_env_matches_the_reference(seed):
    """Playing greedy_independent_set's nodes keeps every action valid and ends at a maximal independent set."""
    env = PublicGoodsEnv(12, 18, graph="er", degree=3.0, cost=0.5)
    env.reset(seed=seed)
    nodes = co.greedy_independent_set(env.n, env.edges)
    total, terminated, info = _play(env, nodes)
    assert terminated and not info["invalid_action"]
    assert co.is_maximal_independent_set(env.n, env.edges, env.solution())
    assert env.welfare() == pytest.approx(env.n + total) == pytest.approx(env.n - 0.5 * len(nodes))


def test_masks_and_invalid_actions():
    """Masks mark the valid nodes; an invalid action changes nothing and is flagged."""
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    env = PublicGoodsEnv(2, 6)
    obs, _ = env.reset(options={"n": 4, "edges": edges})
    obs, _, _, _, info = env.step(1)
    assert obs.nodes[:, 2].tolist() == [0, 0, 0, 1] and obs.nodes[:, 1].tolist() == [1, 1, 1, 0]
    _, _, terminated, _, info = env.step(0)
    assert info["invalid_action"] and not terminated
    _, _, terminated, _, _ = env.step(3)
    assert terminated
    cover = VertexCoverEnv(2, 6)
    obs, _ = cover.reset(options={"n": 4, "edges": edges})
    obs, _, _, _, _ = cover.step(1)
    assert obs.nodes[:, 2].tolist() == [1, 0, 1, 1] and len(obs.edge_links) == 2, "only edge (2, 3) is left"
    assert cover.step(1)[4]["invalid_action"]


@pytest.mark.parametrize("kwargs, match", [
    ({"min_nodes": 1}, "min_nodes"), ({"graph": "ws"}, "graph"), ({"degree": 0.0}, "degree"),
    ({"graph": "ba", "m": 10}, "m"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VertexCoverEnv(**kwargs)
    with pytest.raises(ValueError, match="cost"):
        PublicGoodsEnv(cost=1.0)
    with pytest.raises(ValueError, match="max_nodes"):
        VertexCoverEnv(2, 5).reset(options={"n": 8, "edges": [[0, 7]]})
