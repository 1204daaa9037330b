"""Fixed-size views for MLP baselines: PadEntities (truncated entity slots) and PaddedNeighbours (padded action slots)."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.envs import ReachEnv, RoomsEnv
from gnnrl_lite.envs.wrappers import PadEntities, PaddedNeighbours


@pytest.mark.parametrize("k", [1, 4, 12])
def test_pad_entities_keeps_the_first_slots_and_zero_pads(k):
    """Slots hold the entities (agent dropped) in order; extra entities are cut, missing ones are zeros."""
    env = PadEntities(ReachEnv(size=5, min_landmarks=k, max_landmarks=k), max_entities=6)
    obs, _ = env.reset(seed=k)
    raw = env.unwrapped._get_obs().nodes[1:]
    slots = obs.reshape(6, 5)
    kept = min(len(raw), 6)
    np.testing.assert_array_equal(slots[:kept], raw[:kept])
    assert not slots[kept:].any(), "empty slots are zeros"
    assert env.observation_space.contains(obs)


def test_pad_entities_passes_the_env_checker_and_rejects_bad_input():
    check_env(PadEntities(ReachEnv(), 6), skip_render_check=True)
    with pytest.raises(ValueError, match="max_entities"):
        PadEntities(ReachEnv(), 0)
    with pytest.raises(ValueError, match="agent_col"):
        PadEntities(ReachEnv(), 3, agent_col=7)
    with pytest.raises(TypeError, match="Graph"):
        PadEntities(PadEntities(ReachEnv(), 3), 3)


def test_padded_neighbours_moves_to_the_kth_neighbour():
    """Action k enters the k-th neighbour in index order; an empty slot keeps the agent in place."""
    env = PaddedNeighbours(RoomsEnv(8, 12), max_rooms=12, max_degree=6)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (12 * 12 + 24,) and env.action_space == spaces.Discrete(6)
    nbrs = env.neighbours()
    env.step(0)
    assert env.unwrapped._agent == nbrs[0]
    degree = len(env.neighbours())
    if degree < 6:
        before = env.unwrapped._agent
        _, _, _, _, info = env.step(5)
        assert env.unwrapped._agent == before and info["invalid_action"]


def test_padded_neighbours_cannot_reach_a_door_past_its_slots():
    """On a hub with more doors than slots, the last door is unreachable by any action."""
    star = {"edges": np.array([[0, leaf] for leaf in range(1, 6)]), "agent": 0, "goal": 5}
    env = PaddedNeighbours(RoomsEnv(2, 6), max_rooms=6, max_degree=3)
    env.reset(seed=0, options=star)
    for action in range(3):
        env.unwrapped._agent = 0
        env.step(action)
        assert env.unwrapped._agent != 5


def test_padded_neighbours_passes_the_env_checker_and_rejects_bad_input():
    check_env(PaddedNeighbours(RoomsEnv(8, 10), 10, 4), skip_render_check=True)
    with pytest.raises(ValueError, match="max_rooms=10"):
        PaddedNeighbours(RoomsEnv(20, 20), 10, 4).reset(seed=0)
    with pytest.raises(ValueError, match="max_degree"):
        PaddedNeighbours(RoomsEnv(), 10, 0)
    env = PaddedNeighbours(RoomsEnv(8, 10), 10, 4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="slot"):
        env.step(4)
