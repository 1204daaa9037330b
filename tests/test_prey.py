"""PreyGridEnv (a toroidal grid world with the C4 rotation symmetry): API, dynamics, episode ends and the symmetry."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.envs import PreyGridEnv
from gnnrl_lite.envs.prey import ACTION_PERMUTATIONS, ENV_ID, MOVES, rotate_action, rotate_view


def place(env, agent, prey):
    """Reset ``env`` with the agent and the prey on the given cells."""
    return env.reset(options={"agent": agent, "prey": prey})


def prey_in_view(obs) -> tuple[int, int]:
    """The prey's offset read from an observation: its one-hot cell minus the centre."""
    (cell,) = np.argwhere(obs == 1)
    return tuple(int(x) for x in cell - obs.shape[-1] // 2)


@pytest.mark.parametrize("kwargs", [{}, {"size": 3}, {"size": 9, "p_move": 1.0, "max_steps": 5}])
def test_passes_the_env_checker(kwargs):
    """PreyGridEnv passes Gymnasium's env checker without warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(PreyGridEnv(**kwargs), skip_render_check=True)


def test_registered_id_builds_the_env():
    """gym.make(ENV_ID) builds a PreyGridEnv with its kwargs, no TimeLimit wrapper needed."""
    env = gym.make(ENV_ID, size=5, max_steps=7)
    assert ENV_ID == "gnnrl_lite/PreyGrid-v0" and isinstance(env.unwrapped, PreyGridEnv)
    assert env.unwrapped.size == 5 and env.unwrapped.max_steps == 7
    obs, _ = env.reset(seed=0)
    assert obs.shape == (5, 5)


def test_spaces_shapes_and_dtypes():
    """A (size, size) float32 Box in [0, 1], Discrete(5); float rewards, bool flags, offsets as tuples of ints."""
    env = PreyGridEnv(size=5)
    assert env.observation_space == gym.spaces.Box(0, 1, (5, 5), np.float32) and env.action_space == gym.spaces.Discrete(5)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (5, 5) and env.observation_space.contains(obs)
    assert isinstance(info["shortest_path"], int) and all(type(x) is int for x in info["offset"])
    obs, reward, terminated, truncated, info = env.step(np.int64(2))
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    assert len(info["offset"]) == 2 and all(type(x) is int for x in info["offset"])


@pytest.mark.parametrize("size", [3, 7])
def test_reset_puts_agent_and_prey_on_distinct_cells_and_the_view_is_one_hot(size):
    """Distinct cells; one 1 at centre + offset; offset and shortest_path are the wrapped difference and its L1 norm."""
    env, h = PreyGridEnv(size=size), size // 2
    agents = set()
    for seed in range(500):
        obs, info = env.reset(seed=seed)
        assert env.agent != env.prey, "agent and prey must start on distinct cells"
        assert obs.sum() == 1 and obs[h, h] == 0, "exactly one 1 (the prey), never at the agent's centre cell"
        d = (np.array(env.prey) - np.array(env.agent)) % size
        d = np.where(d > h, d - size, d)  # wrapped into [-h, h]
        assert info["offset"] == prey_in_view(obs) == tuple(d.tolist())
        assert info["shortest_path"] == sum(min(abs(x), size - abs(x)) for x in d), "toroidal Manhattan distance"
        agents.add(env.agent)
    assert len(agents) == size * size, "the agent must start anywhere"


def test_reset_options_place_the_entities():
    """options place the agent and/or the prey; a missing one is drawn on another cell."""
    env = PreyGridEnv()
    obs, info = place(env, (0, 6), (6, 0))
    assert (env.agent, env.prey) == ((0, 6), (6, 0)) and info["offset"] == (-1, 1) and info["shortest_path"] == 2
    for seed in range(30):
        env.reset(seed=seed, options={"agent": np.array([2, 2])})
        assert env.agent == (2, 2) and env.prey != (2, 2)
        env.reset(seed=seed, options={"prey": (2, 2)})
        assert env.prey == (2, 2) and env.agent != (2, 2)


def test_reset_and_steps_are_seeded():
    """The same seed gives the same start and trajectory (prey moves included); other seeds differ."""
    def run(seed):
        env = PreyGridEnv(p_move=0.5)
        obs, _ = env.reset(seed=seed)
        observations = [obs]
        for action in [0, 1, 2, 0, 3, 4, 0, 0] * 3:
            obs, _, terminated, truncated, _ = env.step(action)
            observations.append(obs)
            if terminated or truncated:
                break
        return np.stack(observations)

    assert np.array_equal(run(1), run(1)), "same seed, same trajectory"
    assert not all(np.array_equal(run(1), run(s)) for s in range(2, 6)), "different seeds give different trajectories"


def test_moves_wrap_around_the_torus():
    """Up from row 0 goes to the last row, left from column 0 to the last column, and back."""
    env = PreyGridEnv(p_move=0.0)
    place(env, (0, 0), (3, 3))
    expected = [(1, (6, 0), (-3, 3)), (4, (6, 6), (-3, -3)), (3, (0, 6), (3, -3)), (2, (0, 0), (3, 3)), (0, (0, 0), (3, 3))]
    for action, cell, offset in expected:
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.agent == cell and info["offset"] == offset == prey_in_view(obs)
        assert reward == pytest.approx(-0.1) and not terminated and not truncated


@pytest.mark.parametrize("agent, prey, action", [((2, 2), (2, 3), 2), ((0, 0), (6, 0), 1), ((3, 0), (3, 6), 4)])
def test_stepping_onto_the_prey_is_a_catch(agent, prey, action):
    """Moving onto the prey (across the border too) gives catch_reward and terminates; the prey sits at the centre."""
    env = PreyGridEnv(p_move=1.0, catch_reward=5.0)  # the prey would move, but the catch comes first
    place(env, agent, prey)
    obs, reward, terminated, truncated, info = env.step(action)
    assert reward == 5.0 and terminated and not truncated
    assert env.agent == env.prey == prey and info["offset"] == (0, 0) and obs[3, 3] == 1 and obs.sum() == 1


def test_the_prey_moving_onto_the_agent_is_a_catch():
    """With p_move=1 a prey next to a still agent moves to each neighbour; the move onto the agent is a catch."""
    env = PreyGridEnv(p_move=1.0, step_reward=-0.5)
    outcomes = {}
    for seed in range(200):
        env.reset(seed=seed)
        place(env, (3, 3), (3, 4))
        _, reward, terminated, truncated, info = env.step(0)
        assert not truncated and (reward, terminated) == ((1.0, True) if info["offset"] == (0, 0) else (-0.5, False))
        outcomes[info["offset"]] = outcomes.get(info["offset"], 0) + 1
    assert set(outcomes) == {(0, 0), (0, 2), (-1, 1), (1, 1)}, "the prey moves to one of its 4 neighbours"
    assert min(outcomes.values()) > 25, f"each neighbour about 1/4 of the time: {outcomes}"


def test_truncation_at_max_steps():
    """Truncated (not terminated) after max_steps steps; a catch on the last step terminates instead."""
    env = PreyGridEnv(p_move=0.0, max_steps=3)
    place(env, (0, 0), (3, 3))
    flags = [env.step(0)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]
    place(env, (0, 0), (0, 3))
    flags = [env.step(2)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (True, False)]


@pytest.mark.parametrize("p_move", [0.0, 0.15, 1.0])
def test_the_prey_moves_at_the_rate_p_move(p_move):
    """A still agent sees the prey's offset change by a unit move with probability p_move, never with 0, always with 1."""
    env = PreyGridEnv(p_move=p_move, max_steps=10**6)
    env.reset(seed=0)
    moves, steps = 0, 3000
    for _ in range(steps):
        before = env.prey
        _, _, terminated, _, _ = env.step(0)
        step = (np.array(env.prey) - np.array(before)) % env.size
        assert tuple(step.tolist()) in {(0, 0), (1, 0), (6, 0), (0, 1), (0, 6)}, "the prey moves at most one cell"
        moves += int(step.any())
        if terminated:
            env.reset()
    assert moves / steps == pytest.approx(p_move, abs=0.03), f"moved on {moves} of {steps} steps"


def test_the_prey_never_moves_with_p_move_zero():
    """With p_move=0 the prey stays put whatever the agent does."""
    env = PreyGridEnv(p_move=0.0, max_steps=500)
    env.reset(seed=0)
    prey = env.prey
    for action in np.random.default_rng(0).integers(0, 5, 500):
        _, _, terminated, truncated, _ = env.step(action)
        assert env.prey == prey
        if terminated or truncated:
            break


def test_rotate_view_is_rot90_and_a_c4_action():
    """rotate_view is np.rot90 / torch.rot90 on the last two axes; k=4 is the identity and k composes additively."""
    x = np.random.default_rng(0).random((3, 2, 7, 7))
    t = torch.from_numpy(x)
    for k in range(-4, 8):
        assert np.array_equal(rotate_view(x, k), np.rot90(x, k, axes=(-2, -1)))
        assert isinstance(rotate_view(t, k), torch.Tensor) and np.array_equal(rotate_view(t, k).numpy(), rotate_view(x, k))
        assert np.array_equal(rotate_view(x, k + 4), rotate_view(x, k))
        for j in range(4):
            assert np.array_equal(rotate_view(rotate_view(x, k), j), rotate_view(x, k + j))
    assert np.array_equal(rotate_view(x, 4), x) and np.array_equal(rotate_view(rotate_view(x, 1), -1), x)
    one_hot = np.zeros((7, 7))
    one_hot[1, 4] = 1  # offset (-2, 1) goes to (-1, -2) under a quarter turn
    assert prey_in_view(rotate_view(one_hot)) == (-1, -2)


def test_rotate_action_is_a_c4_action_matching_the_moves():
    """Stay is fixed, the moves turn cyclically; k=4 is the identity, k composes; the rotated move is the rotated vector."""
    actions = np.arange(5)
    assert ACTION_PERMUTATIONS.shape == (4, 5) and ACTION_PERMUTATIONS.dtype.kind == "i"
    assert ACTION_PERMUTATIONS[1].tolist() == [0, 4, 1, 2, 3], "up -> left, right -> up, down -> right, left -> down"
    for k in range(-4, 8):
        perm = rotate_action(actions, k)
        assert np.array_equal(perm, ACTION_PERMUTATIONS[k % 4]) and sorted(perm.tolist()) == list(range(5)) and perm[0] == 0
        assert np.array_equal(rotate_action(actions, k + 4), perm)
        for j in range(4):
            assert np.array_equal(rotate_action(rotate_action(actions, k), j), rotate_action(actions, k + j))
        for a in range(5):  # the move vector, drawn in a view and rotated, is the rotated action's move
            view = np.zeros((7, 7))
            view[tuple(MOVES[a] + 3)] = 1
            assert prey_in_view(rotate_view(view, k)) == tuple(MOVES[rotate_action(a, k)].tolist())
    assert np.array_equal(rotate_action(actions, 4), actions)
    assert type(rotate_action(2)) is int and rotate_action(2) == 1
    batch = np.array([[0, 1], [2, 3]], dtype=np.int32)
    assert np.array_equal(rotate_action(batch, 2), [[0, 3], [4, 1]])
    assert torch.equal(rotate_action(torch.tensor([1, 2, 3, 4]), 3), torch.tensor([2, 3, 4, 1]))
    with pytest.raises(ValueError):
        ACTION_PERMUTATIONS[0, 0] = 1  # read-only
    for bad in (1.0, True, np.array([1.5]), torch.tensor([1.0])):
        with pytest.raises(TypeError, match="action must be an integer"):
            rotate_action(bad)


def symmetry_violations(size: int, action_map) -> int:
    """Count (offset, action, k) where stepping the rotated state with ``action_map(a, k)`` breaks the symmetry.

    The rotated state is read off the rotated observation (no formula for the rotation of an offset),
    and the agent stands on a border cell so that the moves wrap around.
    """
    env, h, agent = PreyGridEnv(size=size, p_move=0.0), size // 2, np.array([0, size - 1])
    violations = 0
    for offset in np.ndindex(size, size):
        offset = np.array(offset) - h
        if not offset.any():
            continue
        for k in range(4):
            obs, _ = place(env, agent, (agent + offset) % size)
            rotated = np.array(prey_in_view(rotate_view(obs, k)))
            for action in range(5):
                place(env, agent, (agent + offset) % size)
                next_obs, reward, terminated, *_ = env.step(action)
                start, _ = place(env, agent, (agent + rotated) % size)
                assert np.array_equal(start, rotate_view(obs, k)), "the rotated state must show the rotated view"
                next_rot, reward_rot, terminated_rot, *_ = env.step(action_map(action, k))
                same = np.array_equal(next_rot, rotate_view(next_obs, k)) and reward_rot == reward
                violations += int(not (same and terminated_rot == terminated))
    return violations


@pytest.mark.parametrize("size", [3, 7])
def test_rotating_view_and_action_commutes_with_a_step(size):
    """For every offset, action and k (p_move=0): step(rotate(s), rotate_action(a)) = rotate(step(s, a))."""
    assert symmetry_violations(size, rotate_action) == 0


@pytest.mark.parametrize("wrong_map", [lambda a, k: a, lambda a, k: rotate_action(a, -k)], ids=["identity", "clockwise"])
def test_the_symmetry_check_fails_for_a_wrong_action_map(wrong_map):
    """Negative control: the identity on the moves, or the inverse (clockwise) permutation, breaks the symmetry."""
    assert symmetry_violations(7, wrong_map) > 100


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 4}, r"size must be an odd integer >= 3"),
    ({"size": 1}, r"size must be an odd integer >= 3"),
    ({"size": 7.0}, r"size must be an odd integer >= 3"),
    ({"p_move": -0.1}, r"p_move must lie in \[0, 1\]"),
    ({"p_move": 1.5}, r"p_move must lie in \[0, 1\]"),
    ({"p_move": float("nan")}, r"p_move must lie in \[0, 1\]"),
    ({"max_steps": 0}, r"max_steps must be a positive integer"),
])
def test_bad_constructor_arguments_raise(kwargs, match):
    """Bad constructor arguments raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        PreyGridEnv(**kwargs)


@pytest.mark.parametrize("options, match", [
    ({"hunter": (0, 0)}, r"unknown reset options \['hunter'\]"),
    ({"agent": (0, 7)}, r"options\['agent'\] must be a \(row, col\) pair of integers in \[0, 7\)"),
    ({"prey": (-1, 0)}, r"options\['prey'\] must be a \(row, col\) pair"),
    ({"agent": (1, 2, 3)}, r"options\['agent'\] must be a \(row, col\) pair"),
    ({"agent": (1.0, 2.0)}, r"options\['agent'\] must be a \(row, col\) pair of integers"),
    ({"agent": (2, 2), "prey": (2, 2)}, r"agent and prey must start on distinct cells"),
])
def test_bad_reset_options_raise(options, match):
    """Bad reset options raise ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=match):
        PreyGridEnv().reset(seed=0, options=options)


@pytest.mark.parametrize("action", [5, -1])
def test_bad_actions_raise(action):
    """An action outside Discrete(5) raises ValueError in step and in rotate_action."""
    env = PreyGridEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 5\)"):
        env.step(action)
    with pytest.raises(ValueError, match=r"actions must lie in \[0, 5\)"):
        rotate_action(action)
