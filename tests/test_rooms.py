"""RoomsEnv (neighbours as actions): API, graph generator, BFS, rewards and episode ends."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.envs.rooms import RoomsEnv, bfs_distances, random_connected_graph


@pytest.mark.parametrize("n", [2, 5, 30, 100])
@pytest.mark.parametrize("extra", [0.0, 0.3, 1.0])
def test_random_connected_graph_is_connected_and_simple(n, extra):
    """The generator returns a connected simple graph with n - 1 + round(extra * n) edges (capped at complete)."""
    edges = random_connected_graph(n, extra, np.random.default_rng(n))
    g = nx.Graph(edges.tolist())
    g.add_nodes_from(range(n))
    assert nx.is_connected(g), "the room graph must be connected"
    assert len(edges) == len(set(map(tuple, edges))) and all(u < v for u, v in edges), "edges must be distinct, without self-loops"
    assert len(edges) == min(n - 1 + round(extra * n), n * (n - 1) // 2), "edge count must follow the formula"


def test_random_connected_graph_rejects_one_room():
    """A single room has no doors: the generator refuses it."""
    with pytest.raises(ValueError, match="at least 2 rooms"):
        random_connected_graph(1, 0.3, np.random.default_rng(0))


@pytest.mark.parametrize("seed", range(5))
def test_bfs_distances_match_networkx(seed):
    """bfs_distances equals networkx's shortest-path lengths."""
    rng = np.random.default_rng(seed)
    edges = random_connected_graph(20, 0.5, rng)
    expected = nx.single_source_shortest_path_length(nx.Graph(edges.tolist()), 3)
    assert bfs_distances(20, edges, 3).tolist() == [expected[v] for v in range(20)], "BFS distances must match networkx"


def test_rooms_passes_the_env_checker():
    """RoomsEnv passes Gymnasium's env checker."""
    check_env(RoomsEnv(), skip_render_check=True)


def test_observation_marks_agent_goal_and_neighbours():
    """Observations are in the space; the mask column marks exactly the agent's neighbours."""
    env = RoomsEnv(min_rooms=10, max_rooms=12)
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs), "observation must lie in the observation space"
    nodes, links = obs.nodes, obs.edge_links
    agent, goal = int(nodes[:, 0].argmax()), int(nodes[:, 1].argmax())
    assert nodes[:, 0].sum() == 1 and nodes[:, 1].sum() == 1 and agent != goal
    neighbours = sorted(set(links[links[:, 0] == agent, 1].tolist()))
    assert np.flatnonzero(nodes[:, 2]).tolist() == neighbours, "mask must equal the agent's neighbours"
    assert info["num_rooms"] == len(nodes) and info["shortest_path"] >= 1


@pytest.mark.parametrize("seed", range(5))
def test_following_bfs_reaches_the_goal_optimally(seed):
    """Moving to a neighbour closer to the goal reaches it in shortest_path steps; return = n - shortest_path."""
    env = RoomsEnv(min_rooms=8, max_rooms=30)
    obs, info = env.reset(seed=seed)
    n, total, done, steps = info["num_rooms"], 0.0, False, 0
    edges = obs.edge_links[: len(obs.edge_links) // 2]
    dist = bfs_distances(n, edges, int(obs.nodes[:, 1].argmax()))
    while not done:
        options = np.flatnonzero(obs.nodes[:, 2])
        obs, reward, terminated, truncated, _ = env.step(int(options[dist[options].argmin()]))
        total += reward
        steps += 1
        done = terminated or truncated
    assert terminated and steps == info["shortest_path"], "the greedy BFS walk must be optimal"
    assert total == n - info["shortest_path"], "return must be -1 per step plus the goal bonus n"


def test_invalid_action_stays_and_truncates_at_the_limit():
    """A non-neighbour action leaves the agent in place, costs -1, is flagged, and the episode truncates at max_steps."""
    env = RoomsEnv(min_rooms=6, max_rooms=6, max_steps=3)
    obs, _ = env.reset(seed=0)
    agent = int(obs.nodes[:, 0].argmax())
    for t in range(3):
        obs, reward, terminated, truncated, info = env.step(agent)  # staying is not a move through a door
        assert info["invalid_action"] and reward == -1.0 and int(obs.nodes[:, 0].argmax()) == agent
    assert truncated and not terminated, "the episode must truncate after max_steps"


@pytest.mark.parametrize("kwargs, match", [({"min_rooms": 1}, "min_rooms"), ({"min_rooms": 9, "max_rooms": 8}, "min_rooms"),
                                           ({"extra_doors": -1}, "extra_doors"), ({"max_steps": 0}, "max_steps")])
def test_rooms_rejects_bad_arguments(kwargs, match):
    """Bad constructor arguments raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        RoomsEnv(**kwargs)


def test_reset_options_play_a_given_graph():
    """reset(options=...) plays the given graph, agent and goal; bad options raise clear errors."""
    env = RoomsEnv(2, 6)
    star = {"edges": np.array([[0, 1], [0, 2], [0, 3], [3, 4]]), "agent": 1, "goal": 4}
    obs, info = env.reset(seed=0, options=star)
    assert obs.nodes.shape == (5, 3) and info["shortest_path"] == 3 and info["num_rooms"] == 5
    assert obs.nodes[1, 0] == 1 and obs.nodes[4, 1] == 1 and obs.nodes[:, 2].tolist() == [1, 0, 0, 0, 0]
    bad = [({**star, "edges": np.array([[0, 1], [2, 3]]), "goal": 3}, "connected"), ({**star, "goal": 1}, "distinct"),
           ({**star, "edges": np.array([[0, 9]])}, "max_rooms"), ({**star, "edges": np.array([[0, 0], [0, 1]])}, "self-loops"),
           ({**star, "edges": np.zeros((0, 2))}, "non-empty")]
    for options, match in bad:
        with pytest.raises(ValueError, match=match):
            env.reset(options=options)
