"""Tests for gnnrl_lite.envs: PickMaxNodeEnv follows the Gymnasium API and its spec; make_vec_env's autoreset."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.envs import PickMaxNodeEnv, make_vec_env
from gnnrl_lite.graphs import to_dgl


@pytest.mark.parametrize("kwargs", [{}, {"min_nodes": 1, "max_nodes": 1}, {"min_nodes": 2, "max_nodes": 5, "p_masked": 0.9}])
def test_pick_max_node_passes_check_env(kwargs):
    """PickMaxNodeEnv passes gymnasium's check_env without warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(PickMaxNodeEnv(**kwargs), skip_render_check=True)


@pytest.mark.parametrize("kwargs", [{}, {"min_nodes": 1, "max_nodes": 2}, {"min_nodes": 4, "max_nodes": 9, "p_masked": 0.0}])
def test_pick_max_node_observations_in_space_and_well_formed(kwargs):
    """Observations lie in observation_space, have min..max nodes, >= 1 valid node and a bidirected spanning tree."""
    env = PickMaxNodeEnv(**kwargs)
    for seed in range(15):
        obs, info = env.reset(seed=seed)
        assert env.observation_space.contains(obs), "reset observation must be in observation_space"
        n = obs.nodes.shape[0]
        assert env.min_nodes <= n <= env.max_nodes, "node count must lie in [min_nodes, max_nodes]"
        assert obs.nodes.shape == (n, 2) and set(np.unique(obs.nodes[:, 1])) <= {0.0, 1.0}, "nodes must be [value, 0/1 mask]"
        assert obs.nodes[:, 1].sum() >= 1, "at least one node must be available"
        assert obs.edge_links.shape == (2 * (n - 1), 2), "a tree has n-1 edges, stored in both directions"
        g = to_dgl(obs, node_mask=True)
        assert set(map(tuple, obs.edge_links.tolist())) == {(v, u) for u, v in obs.edge_links.tolist()}, "edges must be symmetric"
        if n > 1:
            import networkx as nx

            assert nx.is_connected(g.to_networkx().to_undirected()), "the graph must be connected"
        step_obs, *_ = env.step(int(np.flatnonzero(obs.nodes[:, 1])[0]))
        assert env.observation_space.contains(step_obs), "step observation must be in observation_space"


def test_pick_max_node_rewards():
    """Reward is 1 for the best available node, value/best for another valid node, 0 and invalid_action for a masked/out-of-range one."""
    env = PickMaxNodeEnv(min_nodes=6, max_nodes=8, p_masked=0.4)
    checked = {"best": 0, "other": 0, "masked": 0}
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        values, mask = obs.nodes[:, 0], obs.nodes[:, 1] == 1
        best = values[mask].max()
        for a in range(env.max_nodes):
            env.reset(seed=seed)
            _, r, term, trunc, info = env.step(a)
            assert term and not trunc, "every episode must end after one step"
            if a >= len(values) or not mask[a]:
                assert r == 0.0 and info["invalid_action"], "masked or out-of-range actions must give 0 and invalid_action"
                checked["masked"] += 1
            elif values[a] == best:
                assert r == 1.0 and not info["invalid_action"], "the best available node must give reward 1"
                checked["best"] += 1
            else:
                assert r == pytest.approx(values[a] / best) and r < 1.0, "other valid nodes must give value / best"
                checked["other"] += 1
    assert all(checked.values()), f"every reward case must be exercised: {checked}"


def test_pick_max_node_reset_is_seeded():
    """Resetting with the same seed gives the same graph; different seeds differ."""
    env = PickMaxNodeEnv()
    a, b, c = env.reset(seed=1)[0], env.reset(seed=1)[0], env.reset(seed=2)[0]
    np.testing.assert_array_equal(a.nodes, b.nodes, err_msg="same seed must give the same node features")
    np.testing.assert_array_equal(a.edge_links, b.edge_links, err_msg="same seed must give the same edges")
    assert a.nodes.shape != c.nodes.shape or not np.array_equal(a.nodes, c.nodes), "different seeds must give different graphs"


@pytest.mark.parametrize("kwargs, match", [
    ({"min_nodes": 0}, "need 1 <= min_nodes <= max_nodes"),
    ({"min_nodes": 5, "max_nodes": 4}, "need 1 <= min_nodes <= max_nodes"),
    ({"p_masked": 1.0}, r"p_masked must lie in \[0, 1\)"),
])
def test_pick_max_node_rejects_bad_arguments(kwargs, match):
    """PickMaxNodeEnv raises ValueError naming the bad argument."""
    with pytest.raises(ValueError, match=match):
        PickMaxNodeEnv(**kwargs)


@pytest.mark.parametrize("env_fn", ["CartPole-v1", PickMaxNodeEnv])
@pytest.mark.parametrize("num_envs", [1, 3])
def test_make_vec_env_sync_same_step(env_fn, num_envs):
    """make_vec_env returns a SyncVectorEnv of num_envs envs with SAME_STEP autoreset."""
    envs = make_vec_env(env_fn, num_envs)
    assert isinstance(envs, gym.vector.SyncVectorEnv) and envs.num_envs == num_envs, "must be a SyncVectorEnv of num_envs envs"
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP, "autoreset must be SAME_STEP"
    envs.close()


def test_make_vec_env_same_step_final_obs():
    """With SAME_STEP autoreset a finished PickMaxNode episode returns the next episode's observation and puts the last in final_obs."""
    envs = make_vec_env(PickMaxNodeEnv, 2)
    obs, _ = envs.reset(seed=0)
    _, _, term, _, info = envs.step(np.zeros(2, dtype=np.int64))
    assert term.all() and "final_obs" in info, "one-step episodes must end and report final_obs"
    for i in range(2):
        np.testing.assert_array_equal(info["final_obs"][i].nodes, obs[i].nodes, err_msg="final_obs must be the finished episode's observation")
    envs.close()


def test_make_vec_env_passes_kwargs_to_gym_make():
    """make_vec_env(env_id, n, **kwargs) forwards kwargs to gymnasium.make (here a time limit)."""
    envs = make_vec_env("CartPole-v1", 1, max_episode_steps=3)
    envs.reset(seed=0)
    truncs = [bool(envs.step(np.zeros(1, dtype=np.int64))[3][0]) for _ in range(3)]
    envs.close()
    assert truncs == [False, False, True], "max_episode_steps=3 must truncate on the third step"


def test_make_vec_env_rejects_bad_input():
    """make_vec_env raises for kwargs with a callable, a non-callable env_fn and num_envs < 1."""
    with pytest.raises(TypeError, match="keyword arguments are only accepted with an env id string"):
        make_vec_env(PickMaxNodeEnv, 2, max_nodes=4)
    with pytest.raises(TypeError, match="env_fn must be a callable or an env id; got int"):
        make_vec_env(3, 2)
    with pytest.raises(ValueError, match="num_envs must be at least 1; got 0"):
        make_vec_env(PickMaxNodeEnv, 0)
