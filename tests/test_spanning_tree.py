"""SpanningTreeEnv (edges as actions), Kruskal's MST weight, and EdgeScoreActorCritic."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.algos import ppo
from gnnrl_lite.combinatorial import minimum_spanning_tree_weight
from gnnrl_lite.envs import SpanningTreeEnv, make_vec_env
from gnnrl_lite.experiments import seed_everything
from gnnrl_lite.heads import EdgeScoreActorCritic


def test_spanning_tree_passes_the_env_checker():
    check_env(SpanningTreeEnv(), skip_render_check=True)


@pytest.mark.parametrize("seed", range(4))
def test_mst_weight_matches_networkx(seed):
    rng = np.random.default_rng(seed)
    n = 12
    edges = np.array(sorted({tuple(sorted(map(int, rng.choice(n, 2, replace=False)))) for _ in range(40)} | {(i, i + 1) for i in range(n - 1)}))
    w = rng.uniform(size=len(edges))
    g = nx.Graph()
    g.add_weighted_edges_from((int(u), int(v), float(x)) for (u, v), x in zip(edges, w))
    expected = sum(d["weight"] for *_, d in nx.minimum_spanning_edges(g, data=True))
    assert minimum_spanning_tree_weight(n, edges, w) == pytest.approx(expected)


def test_mst_weight_rejects_bad_input():
    with pytest.raises(ValueError, match="not connected"):
        minimum_spanning_tree_weight(3, np.array([[0, 1]]), np.ones(1))
    with pytest.raises(ValueError, match="weights"):
        minimum_spanning_tree_weight(2, np.array([[0, 1]]), np.ones(2))


@pytest.mark.parametrize("seed", range(3))
def test_prim_in_the_env_is_optimal_and_masks_are_the_cut(seed):
    """Taking the lightest valid edge every step (Prim) ends after n - 1 steps with return -MST weight."""
    env = SpanningTreeEnv(6, 12)
    obs, info = env.reset(seed=seed)
    total, steps, terminated = 0.0, 0, False
    while not terminated:
        w, mask = obs.edges[:, 0], obs.edges[:, 1] > 0.5
        links = obs.edge_links
        in_tree = obs.nodes[:, 0] > 0.5
        np.testing.assert_array_equal(mask, in_tree[links[:, 0]] & ~in_tree[links[:, 1]])
        a = int(np.flatnonzero(mask)[np.argmin(w[mask])])
        obs, reward, terminated, truncated, step_info = env.step(a)
        total, steps = total + reward, steps + 1
        assert not step_info["invalid_action"] and not truncated
    assert steps == info["num_nodes"] - 1 and -total == pytest.approx(info["optimal"])


def test_invalid_edge_costs_one_and_changes_nothing():
    env = SpanningTreeEnv(5, 5)
    obs, _ = env.reset(seed=0)
    invalid = int(np.flatnonzero(obs.edges[:, 1] < 0.5)[0])
    obs2, reward, terminated, _, info = env.step(invalid)
    assert info["invalid_action"] and reward == -1.0 and not terminated
    np.testing.assert_array_equal(obs2.nodes, obs.nodes)
    with pytest.raises(ValueError, match="min_nodes"):
        SpanningTreeEnv(1, 3)
    with pytest.raises(ValueError, match="extra_edges"):
        SpanningTreeEnv(extra_edges=-1)


@pytest.mark.parametrize("use", [True, False])
def test_edge_score_policy_masks_edges_and_trains(use):
    """Probability only on valid edges; without edge features the weights cannot change the policy; PPO smoke test."""
    seed_everything(0)
    pol = EdgeScoreActorCritic(1, 1, hidden=8, layers=2, use_edge_features=use)
    obs = [SpanningTreeEnv(5, 9).reset(seed=s)[0] for s in range(3)]
    dist, value = pol(pol.collate(obs))
    assert value.shape == (3,)
    for b, o in enumerate(obs):
        p = dist.probs[b, :len(o.edge_links)].detach().numpy()
        assert np.allclose(p[o.edges[:, 1] < 0.5], 0) and p.sum() == pytest.approx(1.0, abs=1e-5)
    reweighted = [type(o)(nodes=o.nodes, edges=np.stack([np.random.default_rng(1).uniform(size=len(o.edges)), o.edges[:, 1]], 1).astype(np.float32),
                          edge_links=o.edge_links) for o in obs]
    with torch.no_grad():
        same = torch.allclose(pol(pol.collate(obs))[0].probs, pol(pol.collate(reweighted))[0].probs)
    assert same != use, "only the policy with edge features reads the weights"
    ppo.train(pol, make_vec_env(lambda: SpanningTreeEnv(5, 8), 2),
              ppo.PPOConfig(total_timesteps=32, num_envs=2, num_steps=16, num_minibatches=2), progress=False)
    with pytest.raises(ValueError, match="edata"):
        pol(torch.zeros(1))
