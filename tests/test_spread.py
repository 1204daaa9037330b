"""SpreadVecEnv (MPE simple spread, vectorised): the same episodes as mpe2's simple_spread_v3, API and checks."""

from __future__ import annotations

import doctest
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

import gnnrl_lite.envs.spread as spread
from gnnrl_lite.envs import SpreadVecEnv
from gnnrl_lite.envs.spread import AGENT, LANDMARK, action_to_movement, movement_to_action

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-5


# ----------------------------------------------------------------------------------- mpe2 side by side
def mpe2_envs(num_envs: int, n: int, continuous: bool = True, max_cycles: int = 25, local_ratio: float = 0.5):
    simple_spread_v3 = pytest.importorskip("mpe2.simple_spread_v3")
    envs = [simple_spread_v3.parallel_env(N=n, continuous_actions=continuous, max_cycles=max_cycles,
                                          local_ratio=local_ratio) for _ in range(num_envs)]
    for k, env in enumerate(envs):
        env.reset(seed=k)
    return envs


def set_mpe2_state(env, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """Put mpe2's world in the state (positions ``(N + L, 2)``, agent velocities ``(N, 2)``); its observations."""
    world = env.unwrapped.world
    n = len(world.agents)
    for i, agent in enumerate(world.agents):
        agent.state.p_pos = positions[i].astype(np.float64).copy()
        agent.state.p_vel = velocities[i].astype(np.float64).copy()
    for l, landmark in enumerate(world.landmarks):
        landmark.state.p_pos = positions[n + l].astype(np.float64).copy()
    return np.stack([env.unwrapped.observe(name) for name in env.possible_agents])


def mpe2_state(env) -> tuple[np.ndarray, np.ndarray]:
    world = env.unwrapped.world
    pos = np.stack([e.state.p_pos for e in world.agents + world.landmarks])
    vel = np.stack([a.state.p_vel for a in world.agents])
    return pos, vel


def run_side_by_side(ours: SpreadVecEnv, refs, actions, ref_actions=None) -> dict:
    """Step ours and the mpe2 envs (already in the same state) through ``actions`` ``(T, E, N, ...)``.

    ``actions`` may instead be a function of our positions ``(E, N + L, 2)`` giving each step's
    movements ``(E, N, 2)`` (mpe2 then gets their :func:`movement_to_action`). Asserts the same
    observations, rewards and ends at every step; returns the largest differences and the number of
    (copy, step) pairs with a collision.
    """
    closed_loop = callable(actions)
    names = refs[0].possible_agents
    worst = {"obs": 0.0, "reward": 0.0, "state": 0.0, "collisions": 0}
    for t in range(ours.max_cycles):
        if closed_loop:
            step_actions = np.asarray(actions(ours.positions()), np.float32)
            step_ref_actions = movement_to_action(step_actions)
        else:
            step_actions = actions[t]
            step_ref_actions = (actions if ref_actions is None else ref_actions)[t]
        obs, rew, term, trunc, info = ours.step(step_actions)
        last = t == ours.max_cycles - 1
        if last:
            assert trunc.all() and set(info) == {"final_obs", "final_positions", "final_velocities"}
            obs_before_reset, pos, vel = info["final_obs"], info["final_positions"], info["final_velocities"]
        else:
            assert not trunc.any() and info == {}
            obs_before_reset, pos, vel = obs, ours.positions(), ours.velocities()
        assert not term.any()
        for k, ref in enumerate(refs):
            r_obs, r_rew, r_term, r_trunc, _ = ref.step({name: step_ref_actions[k, i] for i, name in enumerate(names)})
            r_obs = np.stack([r_obs[name] for name in names])
            r_rew = np.array([r_rew[name] for name in names])
            assert r_obs.dtype == obs_before_reset.dtype == np.float32
            assert all(r_trunc[name] == last for name in names) and not any(r_term.values())
            r_pos, r_vel = mpe2_state(ref)
            worst["obs"] = max(worst["obs"], float(np.abs(obs_before_reset[k].astype(np.float64) - r_obs).max()))
            worst["reward"] = max(worst["reward"], float(np.abs(rew[k] - r_rew).max()))
            worst["state"] = max(worst["state"], float(np.abs(pos[k] - r_pos).max()),
                                 float(np.abs(vel[k, :ours.num_agents] - r_vel).max()))
            gap = np.linalg.norm(r_pos[:len(names), None] - r_pos[None, :len(names)], axis=-1)
            worst["collisions"] += int((gap[~np.eye(len(names), dtype=bool)] < 0.3).any())
            if last:
                assert not ref.agents, "mpe2 removes its agents after the truncation"
    assert worst["obs"] < TOL and worst["reward"] < TOL and worst["state"] < TOL, worst
    return worst


def start_both(n: int, num_envs: int, positions=None, velocities=None, continuous: bool = True, **kwargs):
    ours = SpreadVecEnv(num_envs, n, continuous_actions=continuous, seed=123, **kwargs)
    options = {} if positions is None else {"positions": positions}
    if velocities is not None:
        options["velocities"] = velocities
    obs = ours.reset(options=options)
    refs = mpe2_envs(num_envs, n, continuous, **kwargs)
    pos, vel = ours.positions(), ours.velocities()
    for k, ref in enumerate(refs):
        r_obs = set_mpe2_state(ref, pos[k], vel[k])
        np.testing.assert_allclose(obs[k], r_obs, atol=TOL, rtol=0)
    return ours, refs


@pytest.mark.parametrize("n", [3, 4, 1, 2, 6])
def test_whole_episodes_match_mpe2(n):
    """THE KEY TEST: from the same states with the same random actions, every observation, reward and
    state of a whole episode matches mpe2's simple_spread_v3 (continuous actions), within 1e-5."""
    num_envs = 4
    rng = np.random.default_rng(n)
    ours, refs = start_both(n, num_envs)
    actions = rng.random((ours.max_cycles, num_envs, n, 5), dtype=np.float32)
    worst = run_side_by_side(ours, refs, actions)
    print(f"\nN={n}: max |obs diff| {worst['obs']:.2e}, max |reward diff| {worst['reward']:.2e}, "
          f"max |state diff| {worst['state']:.2e}, (copy, step) pairs with a collision {worst['collisions']}")


@pytest.mark.parametrize("n", [3, 4])
def test_collisions_and_moving_starts_match_mpe2(n):
    """Agents starting on top of each other, with velocities, and all heading for their centre: the
    contact forces and collision penalties match mpe2 too (and do occur, often)."""
    num_envs = 3
    rng = np.random.default_rng(10 + n)
    positions = rng.uniform(-1, 1, (num_envs, 2 * n, 2))
    positions[:, :n] = rng.uniform(-0.15, 0.15, (num_envs, n, 2))  # every agent within 0.3 of the others
    velocities = rng.normal(0, 0.5, (num_envs, n, 2))
    ours, refs = start_both(n, num_envs, positions, velocities)

    def to_the_centre(pos):
        agents = pos[:, :n]
        return 10 * (agents.mean(axis=1, keepdims=True) - agents)

    worst = run_side_by_side(ours, refs, to_the_centre)
    assert worst["collisions"] >= num_envs * 5, f"the agents were meant to collide often: {worst}"
    print(f"\nN={n} crowded: max |obs diff| {worst['obs']:.2e}, max |reward diff| {worst['reward']:.2e}, "
          f"(copy, step) pairs with a collision {worst['collisions']} of {num_envs * ours.max_cycles}")


def test_movements_clipping_and_other_settings_match_mpe2():
    """2-D movements act like movement_to_action(move) in mpe2; out-of-range actions are clipped like
    mpe2's ClipOutOfBoundsWrapper; another local_ratio and episode length match as well."""
    n, num_envs = 3, 3
    rng = np.random.default_rng(5)
    ours, refs = start_both(n, num_envs, max_cycles=10, local_ratio=0.8)
    moves = rng.normal(0, 1.0, (ours.max_cycles, num_envs, n, 2)).astype(np.float32)
    run_side_by_side(ours, refs, moves, ref_actions=movement_to_action(moves))
    ours, refs = start_both(n, num_envs, max_cycles=10, local_ratio=0.0)
    wide = rng.uniform(-0.5, 1.5, (ours.max_cycles, num_envs, n, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mpe2 warns that it clips
        run_side_by_side(ours, refs, wide)


def test_discrete_actions_match_mpe2():
    """continuous_actions=False takes mpe2's Discrete(5) actions and gives its episodes."""
    n, num_envs = 3, 2
    rng = np.random.default_rng(7)
    ours, refs = start_both(n, num_envs, continuous=False)
    actions = rng.integers(0, 5, (ours.max_cycles, num_envs, n))
    run_side_by_side(ours, refs, actions)


@pytest.mark.parametrize("n", [3, 4])
def test_seeded_starts_are_mpe2s(n):
    """Copy 0 draws its start like mpe2: reset(seed=s) and the next autoreset start where mpe2's
    reset(seed=s) and reset() do."""
    (ref,) = mpe2_envs(1, n)
    for num_envs in (1, 4):
        ours = SpreadVecEnv(num_envs, n)
        ours.reset(seed=42)
        ref.reset(seed=42)
        assert np.array_equal(ours.positions()[0], mpe2_state(ref)[0])
        assert not ours.velocities().any()
    ours = SpreadVecEnv(1, n)
    ours.reset(seed=3)
    ref.reset(seed=3)
    actions = np.zeros((ours.max_cycles, 1, n, 5), np.float32)
    for t in range(ours.max_cycles):
        ours.step(actions[t])
    ref.reset()
    assert np.array_equal(ours.positions()[0], mpe2_state(ref)[0]), "the second episode starts like mpe2's"


# ----------------------------------------------------------------------------------------- API
@pytest.mark.parametrize("n, n_lm", [(3, None), (4, None), (2, 5), (5, 1), (1, 0)])
def test_shapes_dtypes_and_layout(n, n_lm):
    """Shapes and dtypes of everything returned, and the observation layout read from the state."""
    env = SpreadVecEnv(5, n, n_lm, seed=0)
    n_lm = n if n_lm is None else n_lm
    obs = env.reset()
    assert env.obs_dim == 4 + 2 * n_lm + 4 * (n - 1) and env.observation_space.shape == (env.obs_dim,)
    assert env.action_space.shape == (5,)
    assert obs.shape == (5, n, env.obs_dim) and obs.dtype == np.float32
    assert env.positions().shape == env.velocities().shape == (5, n + n_lm, 2)
    assert env.entity_types.tolist() == [AGENT] * n + [LANDMARK] * n_lm
    obs, rew, term, trunc, info = env.step(np.random.default_rng(0).random((5, n, 5)))
    assert rew.shape == (5, n) and rew.dtype == np.float64
    assert term.shape == trunc.shape == (5,) and term.dtype == trunc.dtype == bool
    pos, vel = env.positions(), env.velocities()
    assert not vel[:, n:].any(), "landmarks do not move"
    i = n - 1
    np.testing.assert_allclose(obs[:, i, 0:2], vel[:, i], atol=1e-6)
    np.testing.assert_allclose(obs[:, i, 2:4], pos[:, i], atol=1e-6)
    np.testing.assert_allclose(obs[:, i, 4:4 + 2 * n_lm], (pos[:, n:] - pos[:, i:i + 1]).reshape(5, -1), atol=1e-6)
    np.testing.assert_allclose(obs[:, i, 4 + 2 * n_lm:4 + 2 * n_lm + 2 * (n - 1)],
                               (pos[:, :i] - pos[:, i:i + 1]).reshape(5, -1), atol=1e-6)
    assert not obs[:, :, 4 + 2 * n_lm + 2 * (n - 1):].any(), "the communication slots are zero"
    assert (rew <= 0).all(), "distances and collision penalties only"


def test_physics_by_hand():
    """One push from rest: v = u dt, then the position moves by the old velocity and v decays by 0.75."""
    env = SpreadVecEnv(1, 2, seed=0)
    positions = np.array([[-0.5, 0.0], [0.5, 0.0], [0.0, 1.0], [0.0, -1.0]])
    env.reset(options={"positions": positions})
    env.step(np.array([[[0, 0, 1, 0, 0], [0, 0, 0, 0.5, 0]]], np.float32))
    np.testing.assert_allclose(env.velocities()[0, :2], [[0.5, 0.0], [0.0, -0.25]], atol=1e-12)
    np.testing.assert_allclose(env.positions()[0], positions, atol=1e-12)
    env.step(np.zeros((1, 2, 5)))
    np.testing.assert_allclose(env.velocities()[0, :2], [[0.375, 0.0], [0.0, -0.1875]], atol=1e-12)
    np.testing.assert_allclose(env.positions()[0, :2], positions[:2] + [[0.05, 0.0], [0.0, -0.025]], atol=1e-12)


def test_rewards_by_hand():
    """Global part: minus the sum of each landmark's distance to its nearest agent; local: -1 per overlap."""
    env = SpreadVecEnv(1, 3, local_ratio=0.25, seed=0)
    # agents 0 and 1 overlap (0.2 < 0.3), agent 2 is alone; landmarks at known distances
    positions = np.array([[0.0, 0.0], [0.2, 0.0], [1.0, 1.0], [0.0, 0.5], [1.0, 0.0], [-1.0, -1.0]])
    env.reset(options={"positions": positions})
    # zero action: agents 0 and 1 push each other apart, but only from the next step on
    _, rew, *_ = env.step(np.zeros((1, 3, 2)))
    pos = env.positions()[0]
    dist = np.linalg.norm(pos[None, :3] - pos[3:, None], axis=-1)
    global_part = -dist.min(axis=1).sum()
    np.testing.assert_allclose(rew[0], 0.75 * global_part + 0.25 * np.array([-1, -1, 0]), atol=1e-12)
    assert np.linalg.norm(pos[0] - pos[1]) == pytest.approx(0.2), "positions move with the old velocity (0)"
    env.step(np.zeros((1, 3, 2)))
    vel = env.velocities()[0]
    assert vel[0, 0] < 0 < vel[1, 0] and vel[2].tolist() == [0.0, 0.0], "the contact force pushes them apart"


def test_seeding_is_deterministic():
    """The same seed gives the same episodes; another seed other starts; reset(seed) reseeds."""
    actions = np.random.default_rng(1).random((30, 8, 3, 5))

    def rollout(env, seed):
        out = [env.reset(seed=seed)]
        for a in actions:
            obs, rew, *_ = env.step(a)
            out += [obs, rew]
        return out

    a, b = rollout(SpreadVecEnv(8), 5), rollout(SpreadVecEnv(8, seed=99), 5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(rollout(SpreadVecEnv(8), 6)[0], a[0])
    env1, env2 = SpreadVecEnv(8, seed=11), SpreadVecEnv(8, seed=11)
    assert np.array_equal(env1.reset(), env2.reset())
    assert not np.array_equal(env1.positions()[0], env1.positions()[1]), "copies start in different states"


def test_truncation_and_autoreset():
    """Truncation exactly after max_cycles steps in every copy, the new episode's first observation
    returned with the last one (and the last state) in info, and the step counter restarted."""
    env, longer = SpreadVecEnv(4, max_cycles=7, seed=0), SpreadVecEnv(4, max_cycles=8, seed=0)
    env.reset(), longer.reset()
    actions = np.random.default_rng(0).random((7, 4, 3, 5))
    for t in range(1, 8):
        obs, _, term, trunc, info = env.step(actions[t - 1])
        longer_obs, *_ = longer.step(actions[t - 1])
        assert not term.any()
        if t < 7:
            assert not trunc.any() and info == {} and env.steps == t
    assert trunc.all() and env.steps == 0 and longer.steps == 7
    assert np.array_equal(info["final_obs"], longer_obs), "final_obs is the last observation of the episode"
    assert np.array_equal(info["final_positions"], longer.positions())
    assert np.array_equal(info["final_velocities"], longer.velocities())
    assert np.abs(obs[:, :, 2:4] - env.positions()[:, :3]).max() < 1e-6, "obs is the new episode's first"
    assert not env.velocities().any() and not np.allclose(env.positions(), longer.positions())
    obs, _, _, trunc, info = env.step(actions[0])
    assert not trunc.any() and info == {} and env.steps == 1


@pytest.mark.parametrize("region, low, high", [("left", -1.0, 0.0), ("right", 0.0, 1.0), ("all", -1.0, 1.0)])
def test_region_puts_everything_in_its_half(region, low, high):
    """region='left'/'right' starts every agent and landmark with x in [-1, 0] / [0, 1], y in [-1, 1],
    at every reset (autoresets too), and covers that half."""
    env = SpreadVecEnv(200, 3, seed=0, region=region)
    env.reset()
    starts_pos = [env.positions()]
    for _ in range(env.max_cycles):
        env.step(np.zeros((200, 3, 5)))
    starts_pos.append(env.positions())
    for pos in starts_pos:
        x, y = pos[..., 0], pos[..., 1]
        assert low <= x.min() and x.max() <= high and -1 <= y.min() and y.max() <= 1
        assert x.min() < low + 0.05 and x.max() > high - 0.05 and y.min() < -0.95 and y.max() > 0.95


def test_movement_to_action_round_trip():
    """movement_to_action and action_to_movement: positive and negative parts, clipping, dtypes."""
    rng = np.random.default_rng(0)
    move = rng.normal(0, 1.5, (10, 3, 2))
    action = movement_to_action(move)
    assert action.shape == (10, 3, 5) and action.dtype == np.float64
    assert (action >= 0).all() and (action <= 1).all() and not action[..., 0].any()
    assert (np.minimum(action[..., 1], action[..., 2]) == 0).all() and (np.minimum(action[..., 3], action[..., 4]) == 0).all()
    assert np.array_equal(action_to_movement(action), np.clip(move, -1, 1)), "exact on [-1, 1]^2"
    assert movement_to_action(np.float32([0.25, -0.5])).tolist() == [0, 0, 0.25, 0.5, 0]
    assert movement_to_action(np.float32([0.25, -0.5])).dtype == np.float32
    assert movement_to_action([1, -3]).tolist() == [0, 0, 1, 1, 0]
    # any mpe2 action: its movement gives the same force
    a = rng.uniform(-0.2, 1.2, (50, 5))
    assert np.array_equal(action_to_movement(movement_to_action(action_to_movement(a))), action_to_movement(a))
    # movements and their actions step the env identically
    env1, env2 = SpreadVecEnv(10, seed=4), SpreadVecEnv(10, seed=4)
    env1.reset(), env2.reset()
    out1, out2 = env1.step(move), env2.step(action)
    assert all(np.array_equal(x, y) for x, y in zip(out1[:4], out2[:4]))


def test_bad_inputs_raise_clear_errors():
    """Invalid constructor arguments, reset options and actions raise ValueError saying what is wrong."""
    for kwargs, match in [({"num_envs": 0}, "num_envs"), ({"num_envs": 2.0}, "num_envs"),
                          ({"num_envs": 2, "num_agents": 0}, "num_agents"),
                          ({"num_envs": 2, "num_landmarks": -1}, "num_landmarks"),
                          ({"num_envs": 2, "max_cycles": 0}, "max_cycles"),
                          ({"num_envs": 2, "local_ratio": 1.5}, "local_ratio"),
                          ({"num_envs": 2, "continuous_actions": "yes"}, "continuous_actions"),
                          ({"num_envs": 2, "region": "top"}, "region")]:
        with pytest.raises(ValueError, match=match):
            SpreadVecEnv(**kwargs)
    env = SpreadVecEnv(2, 3, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="seed"):
        env.reset(seed=-1)
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"position": np.zeros((6, 2))})
    with pytest.raises(ValueError, match=r"positions.*shape \(6, 2\) or \(2, 6, 2\)"):
        env.reset(options={"positions": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="finite"):
        env.reset(options={"positions": np.full((6, 2), np.nan)})
    with pytest.raises(ValueError, match="landmarks"):
        env.reset(options={"velocities": np.ones((6, 2))})
    env.reset(options={"positions": np.zeros((6, 2)), "velocities": np.ones((3, 2))})
    assert env.velocities()[:, :3].tolist() == [[[1.0, 1.0]] * 3] * 2
    for actions, match in [(np.zeros((2, 3)), r"\(2, 3, 5\).*\(2, 3, 2\)"), (np.zeros((3, 3, 5)), "shape"),
                           (np.zeros((2, 3, 4)), "shape"), (np.full((2, 3, 5), np.nan), "NaN"),
                           (np.full((2, 3, 5), "a"), "numbers")]:
        with pytest.raises(ValueError, match=match):
            env.step(actions)
    discrete = SpreadVecEnv(2, 3, continuous_actions=False, seed=0)
    discrete.reset()
    for actions, match in [(np.zeros((2, 3, 5)), "integers of shape"), (np.full((2, 3), 5), "0, 1, 2, 3, 4"),
                           (np.zeros((2, 3), np.float32), "integers")]:
        with pytest.raises(ValueError, match=match):
            discrete.step(actions)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        movement_to_action(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        movement_to_action([np.nan, 0.0])
    with pytest.raises(ValueError, match=r"\(\.\.\., 5\)"):
        action_to_movement(np.zeros((2, 2)))


def test_docstring_example():
    """The module docstring's example runs as written."""
    result = doctest.testmod(spread, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_speed_against_mpe2_is_reported():
    """Env steps per second at num_envs=64 against one mpe2 parallel_env (printed, not asserted:
    the machine may be busy). scripts/bench_spread.py measures it for longer."""
    pytest.importorskip("mpe2")
    spec = importlib.util.spec_from_file_location("bench_spread", ROOT / "scripts" / "bench_spread.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ours = bench.ours_env_steps_per_second(num_envs=64, seconds=0.5)
    ref = bench.mpe2_env_steps_per_second(seconds=0.5)
    assert ours > 0 and ref > 0
    print(f"\nenv steps/s: SpreadVecEnv(64) {ours:,.0f}, mpe2 parallel_env {ref:,.0f}, ratio {ours / ref:.0f}x (target >= 50x)")
