"""ReachEnv (a fixed action space over a variable set of entities): API, features, dynamics, shaping, episode ends."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.algos import ppo
from gnnrl_lite.envs import ReachEnv, make_vec_env
from gnnrl_lite.envs.reach import MOVES
from gnnrl_lite.graphs import collate_obs
from gnnrl_lite.policies import GraphActorCritic


def test_reach_passes_the_env_checker():
    """ReachEnv passes Gymnasium's env checker."""
    check_env(ReachEnv(), skip_render_check=True)


@pytest.mark.parametrize("k", [0, 3, 20])
def test_observation_is_a_star_of_the_entities(k):
    """One agent node, one goal, k landmarks; a star of edges; positions relative to the agent, scaled by the size."""
    env = ReachEnv(size=5, min_landmarks=k, max_landmarks=k)
    obs, info = env.reset(seed=k)
    assert obs.nodes.shape == (2 + k, 5) and env.observation_space.contains(obs)
    assert obs.nodes[0].tolist() == [1, 0, 0, 0, 0], "node 0 is the agent"
    assert obs.nodes[1:, 1].sum() == 1 and obs.nodes[1:, 2].sum() == k, "one goal and k landmarks"
    assert len(obs.edge_links) == 2 * (1 + k) and set(obs.edge_links[:, 0]) | set(obs.edge_links[:, 1]) == set(range(2 + k))
    goal = obs.nodes[1 + np.argmax(obs.nodes[1:, 1])]
    assert info["shortest_path"] == round(5 * (abs(goal[3]) + abs(goal[4]))), "shortest path = Manhattan distance"


def test_goal_position_in_the_list_is_random():
    """The goal is not always the first entity (so a padded list must search for it)."""
    places = {int(np.argmax(ReachEnv(min_landmarks=5, max_landmarks=5).reset(seed=s)[0].nodes[1:, 1])) for s in range(30)}
    assert len(places) > 3, places


def test_walking_to_the_goal_terminates_with_reward_and_shaping_telescopes():
    """Moving along a shortest path reaches the goal in shortest_path steps; shaping adds beta*(gamma*Phi' - Phi) per step."""
    for shaping in (0.0, 1.0):
        env = ReachEnv(size=6, min_landmarks=2, max_landmarks=2, shaping=shaping, gamma=1.0)
        obs, info = env.reset(seed=3)
        total, steps, terminated = 0.0, 0, False
        while not terminated:
            dx, dy = (obs.nodes[1 + np.argmax(obs.nodes[1:, 1])][3:] * 6).round()
            action = 2 if dy > 0 else 1 if dy < 0 else 4 if dx > 0 else 3
            obs, reward, terminated, truncated, step_info = env.step(action)
            total, steps = total + reward, steps + 1
            assert not truncated
        assert steps == info["shortest_path"] and step_info["success"]
        expected = 1.0 - 0.01 * steps + (shaping * info["shortest_path"] / 6 if shaping else 0.0)
        assert total == pytest.approx(expected), "with gamma=1 the shaping sums to Phi(goal) - Phi(start)"


def test_border_blocks_and_step_limit_truncates():
    """Moves off the grid keep the agent in place; the step limit truncates."""
    env = ReachEnv(size=3, min_landmarks=0, max_landmarks=0, max_steps=2)
    env.reset(seed=0)
    env._agent, env._goal = np.array([0, 0]), np.array([2, 2])
    env.step(1)  # up, off the grid
    assert env._agent.tolist() == [0, 0]
    _, _, terminated, truncated, info = env.step(0)
    assert truncated and not terminated and not info["success"]
    assert MOVES.shape == (5, 2)


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 1}, "size"), ({"min_landmarks": 3, "max_landmarks": 2}, "min_landmarks"),
    ({"size": 3, "max_landmarks": 8}, "does not fit"), ({"max_steps": 0}, "max_steps"), ({"shaping": -1.0}, "shaping"),
])
def test_reach_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReachEnv(**kwargs)


def test_graph_actor_critic_trains_on_reach_and_runs_on_more_landmarks():
    """PPO runs with GraphActorCritic on ReachEnv (smoke test) and the policy takes 20 landmarks unchanged."""
    envs = make_vec_env(lambda: ReachEnv(5, 2, 5, shaping=1.0), 2)
    policy = GraphActorCritic(5, 5, hidden=8, layers=1, readout="max", aggregation="max")
    ppo.train(policy, envs, ppo.PPOConfig(total_timesteps=64, num_envs=2, num_steps=16, num_minibatches=2), progress=False)
    dist, value = policy(collate_obs([ReachEnv(5, 20, 20).reset(seed=0)[0]]))
    assert dist.probs.shape == (1, 5) and value.shape == (1,)
