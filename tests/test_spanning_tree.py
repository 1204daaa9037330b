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


@pytest.mark.parametrize("seed", range(3))
def test_line_graph_edge_count_matches_the_degree_formula(seed):
    """dgl.line_graph's edge count equals sum_v d_v (d_v - 1) for a graph stored in both directions."""
    import dgl

    from gnnrl_lite.graphs import collate_obs
    from gnnrl_lite.heads import line_graph_num_edges

    obs = SpanningTreeEnv(10, 30).reset(seed=seed)[0]
    g = collate_obs([obs], edge_mask=True)
    d = g.in_degrees()
    assert dgl.line_graph(g, backtracking=False).num_edges() == line_graph_num_edges(g) == int((d * (d - 1)).sum())
    with pytest.raises(TypeError):
        line_graph_num_edges(obs)


def test_line_graph_policy_masks_edges_is_batch_consistent_and_trains():
    """Probability only on valid edges; a graph's output does not depend on the others in the batch; PPO smoke test."""
    from gnnrl_lite.heads import LineGraphActorCritic

    seed_everything(0)
    pol = LineGraphActorCritic(1, 1, hidden=8, layers=2)
    obs = [SpanningTreeEnv(5, 9).reset(seed=s)[0] for s in range(3)]
    with torch.no_grad():
        dist, value = pol(pol.collate(obs))
        alone, v_alone = pol(pol.collate(obs[1:2]))
    p = dist.probs[1, :len(obs[1].edge_links)]
    torch.testing.assert_close(p, alone.probs[0, :len(obs[1].edge_links)], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(value[1:2], v_alone, atol=1e-6, rtol=1e-5)
    assert torch.all(p[torch.as_tensor(obs[1].edges[:, 1] < 0.5)] == 0)
    ppo.train(pol, make_vec_env(lambda: SpanningTreeEnv(5, 8), 2),
              ppo.PPOConfig(total_timesteps=32, num_envs=2, num_steps=16, num_minibatches=2), progress=False)
    with pytest.raises(ValueError, match="edge feature"):
        LineGraphActorCritic(1, 2)(pol.collate(obs))


def test_two_step_policy_is_a_distribution_over_valid_edges_and_trains():
    """pi(u) pi(v|u) sums to one over the valid edges; samples and the mode are valid edges; PPO smoke test."""
    from gnnrl_lite.heads import TwoStepEdgeActorCritic

    seed_everything(0)
    pol = TwoStepEdgeActorCritic(1, 1, hidden=8, layers=2)
    env = SpanningTreeEnv(6, 6)
    obs, _ = env.reset(seed=2)
    obs, *_ = env.step(int(np.flatnonzero(obs.edges[:, 1] > 0.5)[0]))  # a tree of two nodes: several sources
    valid = np.flatnonzero(obs.edges[:, 1] > 0.5)
    g = pol.collate([obs])
    with torch.no_grad():
        dist, value = pol(g)
        total = sum(dist.log_prob(torch.tensor([a])).exp().item() for a in valid)
        samples = {int(dist.sample()[0]) for _ in range(30)}
        mode = int(dist.mode[0])
        assert dist.entropy().shape == (1,)
    assert total == pytest.approx(1.0, abs=1e-5) and samples <= set(valid.tolist()) and mode in valid
    batch = [SpanningTreeEnv(5, 9).reset(seed=s)[0] for s in range(3)]
    with torch.no_grad():
        d, v = pol(pol.collate(batch))
        a = d.sample()
    assert v.shape == a.shape == (3,) and all(b.edges[int(a[i]), 1] > 0.5 for i, b in enumerate(batch))
    ppo.train(pol, make_vec_env(lambda: SpanningTreeEnv(5, 8), 2),
              ppo.PPOConfig(total_timesteps=32, num_envs=2, num_steps=16, num_minibatches=2), progress=False)
    with pytest.raises(ValueError, match="edata"):
        pol(torch.zeros(1))


def test_two_step_sample_then_log_prob_runs_the_second_pass_once():
    """The rollout's sample() and log_prob() of the same edges share one conditioned forward pass."""
    from gnnrl_lite.heads import TwoStepEdgeActorCritic

    seed_everything(0)
    pol = TwoStepEdgeActorCritic(1, 1, hidden=8, layers=2)
    calls = []
    original = pol.destination
    pol.destination = lambda g, src: calls.append(1) or original(g, src)
    obs = [SpanningTreeEnv(5, 9).reset(seed=s)[0] for s in range(3)]
    with torch.no_grad():
        dist, _ = pol(pol.collate(obs))
        actions = dist.sample()
        dist.log_prob(actions)
    assert len(calls) == 1
