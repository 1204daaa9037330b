"""run_episodes: batched evaluation that matches one-at-a-time evaluation and reports per-episode summaries."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from gnnrl_lite.algos.ppo import evaluate
from gnnrl_lite.envs import PickMaxNodeEnv, RoomsEnv
from gnnrl_lite.experiments import seed_everything
from gnnrl_lite.policies import MLPActorCritic, NeighbourActorCritic, RandomPolicy
from gnnrl_lite.rollouts import run_episodes


@pytest.mark.parametrize("num_envs", [1, 3, 16])
def test_greedy_returns_match_evaluate_for_any_batch_size(num_envs):
    """Greedy returns equal ppo.evaluate's (same episode seeds), whatever the number of episodes in flight."""
    seed_everything(0)
    policy = NeighbourActorCritic(2, hidden=8, steps=2)
    eps = run_episodes(policy, lambda: RoomsEnv(5, 8), 6, num_envs=num_envs, seed=7)
    expected = evaluate(policy, RoomsEnv(5, 8), 6, seed=7)
    assert [e["episode"] for e in eps] == list(range(6))
    np.testing.assert_allclose([e["return"] for e in eps], expected, rtol=1e-6)


def test_summaries_carry_reset_info_termination_and_length():
    eps = run_episodes(RandomPolicy(), lambda: RoomsEnv(4, 6), 5, seed=0, deterministic=False)
    for e in eps:
        assert e["reset_info"]["shortest_path"] >= 1 and e["length"] >= 1
        if e["terminated"]:
            assert e["length"] >= e["reset_info"]["shortest_path"], "no episode beats the shortest path"


def test_sampling_is_seeded_and_reset_options_are_passed():
    """Sampled runs repeat with the same seed; reset options reach every reset."""
    run = lambda: [e["length"] for e in run_episodes(RandomPolicy(), lambda: RoomsEnv(6, 9), 8, seed=3, deterministic=False)]
    assert run() == run()
    star = {"edges": np.array([[0, 1], [0, 2], [0, 3]]), "agent": 0, "goal": 3}
    eps = run_episodes(RandomPolicy(), lambda: RoomsEnv(2, 4), 4, seed=0, deterministic=False, reset_options=star)
    assert all(e["reset_info"]["num_rooms"] == 4 and e["reset_info"]["shortest_path"] == 1 for e in eps)


def test_a_list_of_reset_options_gives_each_episode_its_own():
    """Episode k plays reset_options[k] whatever the number of episodes in flight (a fixed test set)."""
    paths = [{"edges": np.array([[i, i + 1] for i in range(k)]), "agent": 0, "goal": k} for k in (1, 2, 3, 4, 5)]
    for num_envs in (1, 2, 5):
        eps = run_episodes(RandomPolicy(), lambda: RoomsEnv(2, 6), 5, num_envs=num_envs, deterministic=False, reset_options=paths)
        assert [e["reset_info"]["shortest_path"] for e in eps] == [1, 2, 3, 4, 5]


def test_works_with_flat_observations_and_continuous_actions():
    policy = MLPActorCritic(3, gym.make("Pendulum-v1").action_space)
    eps = run_episodes(policy, lambda: gym.make("Pendulum-v1", max_episode_steps=5), 2)
    assert [e["length"] for e in eps] == [5, 5] and not any(e["terminated"] for e in eps)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"episodes": 0}, ValueError, "episodes"), ({"num_envs": 0}, ValueError, "num_envs"),
    ({"make_env": 3}, TypeError, "callable"),
    ({"reset_options": [{}]}, ValueError, "one per episode"), ({"reset_options": 3}, TypeError, "reset_options"),
    ({"make_env": lambda: gym.vector.SyncVectorEnv([PickMaxNodeEnv])}, TypeError, "VectorEnv"),
])
def test_rejects_bad_arguments(kwargs, error, match):
    args = {"policy": RandomPolicy(), "make_env": PickMaxNodeEnv, "episodes": 2, **kwargs}
    with pytest.raises(error, match=match):
        run_episodes(**args)


def test_restores_training_mode():
    policy = NeighbourActorCritic(2, hidden=8, steps=2)
    policy.train()
    run_episodes(policy, lambda: RoomsEnv(4, 5), 2)
    assert policy.training
    assert torch.is_grad_enabled()
