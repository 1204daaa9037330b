"""CollectEnv (a fixed action space over a variable set of entities): API, features, dynamics, episode ends."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.algos.ppo import PPOConfig, train
from gnnrl_lite.envs import make_vec_env
from gnnrl_lite.envs.collect import MOVES, CollectEnv
from gnnrl_lite.graphs import collate_obs
from gnnrl_lite.policies import GraphActorCritic


def test_collect_passes_the_env_checker():
    """CollectEnv passes Gymnasium's env checker."""
    check_env(CollectEnv(), skip_render_check=True)


@pytest.mark.parametrize("items", [2, 5, 10, 20])
def test_observation_layout(items):
    """Node 0 is the agent; one node per item and obstacle; relative positions; a two-way star of edges."""
    env = CollectEnv(size=7, min_items=items, max_items=items, num_obstacles=3)
    obs, info = env.reset(seed=items)
    assert env.observation_space.contains(obs), "observation must lie in the space"
    assert obs.nodes.shape == (1 + items + 3, 5) and info["items"] == items
    assert obs.nodes[0].tolist() == [1, 0, 0, 0, 0], "node 0 is the agent at relative position (0, 0)"
    assert obs.nodes[1:, 1].sum() == items and obs.nodes[1:, 2].sum() == 3, "item and obstacle flags"
    assert len(obs.edge_links) == 2 * (items + 3) and set(obs.edge_links[:, 0]) | set(obs.edge_links[:, 1]) == set(range(items + 4))


def test_moving_onto_an_item_collects_it():
    """Stepping onto an item gives +1 (plus the step cost) and removes its node."""
    env = CollectEnv(size=5, min_items=2, max_items=2, num_obstacles=0)
    obs, _ = env.reset(seed=0)
    env._items = [env._agent + MOVES[4]] if env._agent[1] < 4 else [env._agent + MOVES[3]]
    env._items.append(np.array([-9, -9]))  # unreachable, keeps the episode going
    action = 4 if (env._items[0] == env._agent + MOVES[4]).all() else 3
    obs, reward, terminated, truncated, info = env.step(action)
    assert reward == pytest.approx(1.0 - 0.01) and info["collected"] == 1, "collecting pays +1"
    assert obs.nodes[1:, 1].sum() == 1 and not terminated, "the collected item leaves the graph"


def test_obstacles_and_walls_block_and_episode_ends():
    """Obstacles and the border block moves; collecting everything terminates; the step limit truncates."""
    env = CollectEnv(size=4, min_items=1, max_items=1, num_obstacles=1, max_steps=2)
    env.reset(seed=0)
    env._agent, env._obstacles, env._items = np.array([0, 0]), [np.array([0, 1])], [np.array([3, 3])]
    env.step(4)  # right: obstacle
    assert env._agent.tolist() == [0, 0], "an obstacle blocks the move"
    _, _, terminated, truncated, _ = env.step(1)  # up: wall
    assert env._agent.tolist() == [0, 0] and truncated and not terminated, "the wall blocks; the limit truncates"
    env.reset(seed=1)
    env._items = [env._agent + MOVES[0]]
    _, _, terminated, _, _ = env.step(0)
    assert terminated, "collecting the last item ends the episode"


@pytest.mark.parametrize("kwargs, match", [({"size": 1}, "size"), ({"min_items": 0}, "min_items"),
                                           ({"num_obstacles": 60}, "num_obstacles"), ({"max_steps": 0}, "max_steps")])
def test_collect_rejects_bad_arguments(kwargs, match):
    """Bad constructor arguments raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        CollectEnv(**kwargs)


def test_graph_actor_critic_trains_on_collect():
    """PPO runs with GraphActorCritic on CollectEnv (smoke test) and the policy runs on 20 items unchanged."""
    envs = make_vec_env(lambda: CollectEnv(min_items=2, max_items=5), 2)
    pol = GraphActorCritic(node_dim=5, num_actions=5, hidden=16, readout="max")
    result = train(pol, envs, PPOConfig(total_timesteps=64, num_envs=2, num_steps=16, num_minibatches=2, update_epochs=1), progress=False)
    assert result.history and np.isfinite(result.history[-1]["losses/value_loss"])
    obs, _ = CollectEnv(min_items=20, max_items=20).reset(seed=0)
    dist, value = pol(collate_obs([obs]))
    assert dist.probs.shape == (1, 5) and value.shape == (1,), "the same policy runs on 20 items"
