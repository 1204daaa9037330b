"""Tests for gnnrl_lite.marl: SpreadAgents as a same-step-autoreset vector env for PPO, scene observations, E2GN2 team policies.

Equivariance checks run in float64 (rotation errors about 1e-15 there; float32 reaches 1e-5).
"""

from __future__ import annotations

import doctest

import gymnasium as gym
import numpy as np
import pytest
import torch

import gnnrl_lite.marl as marl
from gnnrl_lite.algos import ppo
from gnnrl_lite.envs import SpreadVecEnv
from gnnrl_lite.graphs import collate_obs
from gnnrl_lite.marl import NODE_FEATURES, GraphTeamActorCritic, SpreadAgents, movement_slope, scene_from_obs, scene_obs
from gnnrl_lite.policies import MLPActorCritic

KINDS = ("e2gn2", "egnn", "gnn")
EQUIVARIANT = ("e2gn2", "egnn")
TOL = 1e-9  # float64


def _orthogonal(rng: np.random.Generator, reflect: bool) -> torch.Tensor:
    """A random 2x2 rotation (det +1) or reflection (det -1), float64."""
    q, r = np.linalg.qr(rng.standard_normal((2, 2)))
    q = q * np.sign(np.diag(r))
    if (np.linalg.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    return torch.as_tensor(q, dtype=torch.float64)


def _scenes(num_envs: int = 4, n: int = 3, n_lm: int | None = None, seed: int = 0, steps: int = 3) -> torch.Tensor:
    """Scene observations (float64) after a few random moves, so that velocities are not all 0."""
    env = SpreadAgents(num_envs, n, n_lm, max_cycles=50)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, *_ = env.step(rng.uniform(-1, 1, (env.num_envs, 2)))
    return torch.as_tensor(obs, dtype=torch.float64)


def _assemble(pos: torch.Tensor, vel: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
    """Inverse of scene_from_obs for a batch: ``(B, M, 2), (B, M, 2), (B, M, 3) -> (B, 7 M)``."""
    return torch.cat([pos.flatten(1), vel.flatten(1), feat.flatten(1)], dim=1)


def _policy(kind: str, n: int = 3, n_lm: int | None = None, seed: int = 0, **kwargs) -> GraphTeamActorCritic:
    torch.manual_seed(seed)
    return GraphTeamActorCritic(kind, n, n_lm, hidden=16, **kwargs).double()


# ----------------------------------------------------------------------------------------- the env
@pytest.mark.parametrize("obs_kind, dim", [("scene", 42), ("mpe", 18)])
def test_vector_env_api_spaces_and_dtypes(obs_kind, dim):
    """SpreadAgents passes ppo.check_vec_env; spaces, shapes and dtypes of reset and step are those of a Gymnasium vector env."""
    env = SpreadAgents(num_envs=2, num_agents=3, obs=obs_kind)
    ppo.check_vec_env(env, 6)
    assert isinstance(env, gym.vector.VectorEnv) and env.num_envs == 6, "one stream per (copy, agent)"
    assert env.single_observation_space == gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32), "observation space"
    assert env.single_action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32), "a 2-D movement per stream"
    assert env.observation_space.shape == (6, dim) and env.action_space.shape == (6, 2), "batched spaces"
    obs, info = env.reset(seed=0)
    assert obs.shape == (6, dim) and obs.dtype == np.float32 and info == {}, "reset returns (obs (E N, D) float32, {})"
    assert obs in env.observation_space, "reset's observation lies in the observation space"
    obs, rew, term, trunc, info = env.step(env.action_space.sample())
    assert obs.shape == (6, dim) and obs.dtype == np.float32 and obs in env.observation_space, "step's observation"
    assert rew.shape == (6,) and rew.dtype == np.float64, "one float64 reward per stream"
    assert term.shape == trunc.shape == (6,) and term.dtype == trunc.dtype == bool, "bool flags per stream"
    assert not term.any() and not trunc.any() and info == {}, "nothing ends at step 1"


@pytest.mark.parametrize("n, n_lm", [(3, 3), (2, 4)])
def test_streams_are_spreadvecenv_agents(n, n_lm):
    """Stream k is agent k % N of copy k // N: rewards, mpe observations and scene positions equal SpreadVecEnv's for the same actions."""
    e, rng = 3, np.random.default_rng(1)
    ref = SpreadVecEnv(e, n, n_lm, seed=5)
    agents = {kind: SpreadAgents(e, n, n_lm, obs=kind) for kind in ("scene", "mpe")}
    ref_obs = ref.reset(seed=5)
    obs = {kind: env.reset(seed=5)[0] for kind, env in agents.items()}
    for _ in range(10):
        np.testing.assert_array_equal(obs["mpe"], ref_obs.reshape(e * n, -1), err_msg="mpe stream observation = agent's own")
        pos, vel, _ = scene_from_obs(obs["scene"], n, n_lm)
        np.testing.assert_array_equal(pos, np.repeat(ref.positions(), n, axis=0).astype(np.float32), err_msg="scene positions")
        np.testing.assert_array_equal(vel, np.repeat(ref.velocities(), n, axis=0).astype(np.float32), err_msg="scene velocities")
        move = rng.uniform(-1.5, 1.5, (e, n, 2))
        ref_obs, ref_rew, *_ = ref.step(move)
        for kind, env in agents.items():
            obs[kind], rew, *_ = env.step(move.reshape(e * n, 2))
            np.testing.assert_array_equal(rew, ref_rew.reshape(-1), err_msg=f"{kind}: stream rewards = per-agent rewards")


def test_scene_features_mark_types_and_ego():
    """Every scene observation flags N agents, L landmarks and exactly one ego, the stream's own agent."""
    n, n_lm, e = 2, 4, 3
    obs, _ = SpreadAgents(e, n, n_lm).reset(seed=0)
    _, _, feat = scene_from_obs(obs, n, n_lm)
    assert NODE_FEATURES == ("agent", "landmark", "ego")
    np.testing.assert_array_equal(feat[..., 0], np.tile([1] * n + [0] * n_lm, (e * n, 1)), err_msg="agents first")
    np.testing.assert_array_equal(feat[..., 1], 1 - feat[..., 0], err_msg="then landmarks")
    np.testing.assert_array_equal(feat[..., 2].argmax(axis=1), np.arange(e * n) % n, err_msg="ego = stream k's agent k % N")
    np.testing.assert_array_equal(feat[..., 2].sum(axis=1), 1, err_msg="exactly one ego")


def test_truncation_same_step_autoreset_and_final_obs():
    """At max_cycles every stream truncates at once; the next episode starts in the same step; info['final_obs'] is SyncVectorEnv's format."""
    e, n, cycles = 2, 3, 4
    env, ref = SpreadAgents(e, n, max_cycles=cycles), SpreadVecEnv(e, n, max_cycles=cycles)
    env.reset(seed=3), ref.reset(seed=3)
    move = np.full((e * n, 2), 0.7, np.float32)
    for t in range(cycles):
        obs, rew, term, trunc, info = env.step(move)
        _, _, _, ref_trunc, ref_info = ref.step(move.reshape(e, n, 2))
        assert not term.any(), "simple spread never terminates"
        assert trunc.all() == (t == cycles - 1) and trunc.all() == trunc.any(), "all streams truncate together at max_cycles"
    assert set(info) == {"final_obs", "_final_obs"}, "final observations and their mask, as SyncVectorEnv(SAME_STEP)"
    final = info["final_obs"]
    assert final.dtype == object and final.shape == (e * n,) and info["_final_obs"].all(), "an object array (E N,) with all entries set"
    expected = scene_obs(ref_info["final_positions"], ref_info["final_velocities"], n).reshape(e * n, -1)
    np.testing.assert_array_equal(np.stack(list(final)), expected, err_msg="final_obs is the last state of the episode")
    pos, vel, _ = scene_from_obs(obs, n, n)
    assert np.all(vel == 0) and np.abs(pos).max() <= 1, "the returned observation starts the next episode (velocities 0)"
    assert not np.allclose(np.stack(list(final)), obs), "final and first observations differ"
    batch = collate_obs([final[i] for i in np.flatnonzero(trunc)])  # how ppo.train bootstraps
    assert batch.shape == (e * n, 42) and batch.dtype == torch.float32, "ppo.train can collate final_obs"
    _, _, _, trunc, info = env.step(move)
    assert not trunc.any() and info == {}, "the new episode runs on"


def test_seeding_is_deterministic_and_returns_fresh_arrays():
    """reset(seed=s) fixes the whole trajectory; another seed gives another one; returned arrays are not reused."""
    def run(seed: int):
        env = SpreadAgents(2, 3, max_cycles=5)
        out = [env.reset(seed=seed)[0]]
        for t in range(7):
            obs, rew, *_ = env.step(np.full((6, 2), np.sin(t), np.float32))
            out += [obs, rew]
        return out

    a, b, c = run(7), run(7), run(8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)), "same seed, same trajectory"
    assert not np.array_equal(a[0], c[0]), "another seed, another start"
    env = SpreadAgents(2, 3)
    obs, _ = env.reset(seed=0)
    keep = obs.copy()
    obs[:] = 99.0
    np.testing.assert_array_equal(env.step(np.zeros((6, 2)))[0][:, :12], keep[:, :12], err_msg="observations are fresh arrays")


@pytest.mark.parametrize("region, low, high", [("left", -1.0, 0.0), ("right", 0.0, 1.0)])
def test_region_is_passed_through(region, low, high):
    """region='left'/'right' starts every entity's x in that half."""
    pos, _, _ = scene_from_obs(SpreadAgents(8, 3, region=region).reset(seed=0)[0], 3, 3)
    assert pos[..., 0].min() >= low and pos[..., 0].max() <= high, f"x in [{low}, {high}]"


def test_bad_inputs_raise_clear_errors():
    """Unknown obs kind, wrong action shape, a list of seeds, scene_from_obs on an mpe observation and a graph policy on one all raise."""
    with pytest.raises(ValueError, match="obs"):
        SpreadAgents(2, obs="graph")
    env = SpreadAgents(2, 3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"\(6, 2\)"):
        env.step(np.zeros((2, 3, 2)))
    with pytest.raises(TypeError, match="seed"):
        env.reset(seed=[0, 1])
    mpe_obs, _ = SpreadAgents(2, 3, obs="mpe").reset(seed=0)
    with pytest.raises(ValueError, match="7 per entity"):
        scene_from_obs(mpe_obs, 3, 3)
    with pytest.raises(ValueError, match="scene observations"):
        GraphTeamActorCritic("e2gn2")(torch.as_tensor(mpe_obs))
    obs = torch.as_tensor(env.reset(seed=0)[0])
    obs[:, -1] = 1.0  # a second ego (the last landmark)
    with pytest.raises(ValueError, match="exactly one ego"):
        GraphTeamActorCritic("e2gn2")(obs)
    with pytest.raises(ValueError, match="kind"):
        GraphTeamActorCritic("mlp")


def test_scene_obs_round_trip_numpy_and_torch():
    """scene_from_obs inverts scene_obs, on NumPy arrays and on torch tensors."""
    rng = np.random.default_rng(0)
    pos, vel = rng.standard_normal((5, 6, 2)), rng.standard_normal((5, 6, 2))
    obs = scene_obs(pos, vel, num_agents=2)  # (5, 2, 42)
    assert obs.shape == (5, 2, 42) and obs.dtype == np.float32
    p, v, f = scene_from_obs(obs, 2, 4)
    np.testing.assert_array_equal(p, np.broadcast_to(pos.astype(np.float32)[:, None], p.shape), err_msg="positions")
    np.testing.assert_array_equal(v, np.broadcast_to(vel.astype(np.float32)[:, None], v.shape), err_msg="velocities")
    pt, vt, ft = scene_from_obs(torch.as_tensor(obs.reshape(10, 42)), 2, 4)
    np.testing.assert_array_equal(pt.numpy(), p.reshape(10, 6, 2), err_msg="torch gives the same split")
    np.testing.assert_array_equal(_assemble(pt, vt, ft).numpy(), obs.reshape(10, 42), err_msg="and reassembles to the observation")


# ----------------------------------------------------------------------------------------- the policy
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n, n_lm, speed", [(3, 3, False), (2, 4, True)])
def test_policy_shapes(kind, n, n_lm, speed):
    """(Independent Normal over (B, 2), value (B,)) for every kind; log-std starts at log_std_init; the graph is cached per batch size."""
    policy = GraphTeamActorCritic(kind, n, n_lm, hidden=8, layers=2, speed=speed, log_std_init=-0.5)
    obs, _ = SpreadAgents(3, n, n_lm).reset(seed=0)
    dist, value = policy(torch.as_tensor(obs))
    a = dist.sample()
    assert a.shape == (3 * n, 2) and value.shape == (3 * n,), "actions (B, 2), values (B,)"
    assert dist.log_prob(a).shape == (3 * n,) and dist.entropy().shape == (3 * n,), "per-stream log-probs and entropies"
    torch.testing.assert_close(dist.stddev, torch.full((3 * n, 2), np.exp(-0.5), dtype=torch.float32))
    assert policy.graph(3 * n) is policy.graph(3 * n), "the batched graph is cached"
    assert policy.graph(3 * n).batch_size == 3 * n and policy.graph(3 * n).num_nodes() == 3 * n * (n + n_lm)


@pytest.mark.parametrize("kind", EQUIVARIANT)
@pytest.mark.parametrize("speed", [False, True])
def test_equivariant_policy_mean_rotates_and_value_is_invariant(kind, speed, rng):
    """E2GN2/EGNN: rotating or reflecting the scene, p -> Q p and v -> Q v, maps the mean to Q mu and keeps the value."""
    policy, obs = _policy(kind, speed=speed), _scenes()
    pos, vel, feat = scene_from_obs(obs, 3, 3)
    with torch.no_grad():
        dist, value = policy(obs)
        for draw in range(4):
            Q = _orthogonal(rng, reflect=bool(draw % 2))
            dist_q, value_q = policy(_assemble(pos @ Q.T, vel @ Q.T, feat))
            assert (dist_q.mean - dist.mean @ Q.T).abs().max() < TOL, f"{kind}: mean must rotate with the scene (det {torch.det(Q):+.0f})"
            assert (value_q - value).abs().max() < TOL, f"{kind}: value must be invariant (det {torch.det(Q):+.0f})"
    assert dist.mean.abs().max() > 1e-5, "the test is not vacuous: the mean is not 0 (E2GN2 starts near 1e-4)"


def test_gnn_baseline_is_not_equivariant(rng):
    """The GNN baseline reads raw coordinates: a rotated scene neither rotates its mean nor keeps its value."""
    policy, obs = _policy("gnn"), _scenes()
    pos, vel, feat = scene_from_obs(obs, 3, 3)
    Q = _orthogonal(rng, reflect=False)
    with torch.no_grad():
        dist, value = policy(obs)
        dist_q, value_q = policy(_assemble(pos @ Q.T, vel @ Q.T, feat))
    assert (dist_q.mean - dist.mean @ Q.T).abs().max() > 1e-6, "gnn: the mean should not be rotation-equivariant"
    assert (value_q - value).abs().max() > 1e-6, "gnn: the value should not be rotation-invariant"


@pytest.mark.parametrize("kind", KINDS)
def test_reordering_entities_leaves_every_agent_unchanged(kind, rng):
    """Permuting the entities (agents and landmarks, types and ego flag travelling along) leaves each stream's mean and value unchanged."""
    policy, obs = _policy(kind, n=3, n_lm=4), _scenes(n=3, n_lm=4)
    pos, vel, feat = scene_from_obs(obs, 3, 4)
    with torch.no_grad():
        dist, value = policy(obs)
        for _ in range(3):
            perm = torch.as_tensor(rng.permutation(7))
            dist_p, value_p = policy(_assemble(pos[:, perm], vel[:, perm], feat[:, perm]))
            assert (dist_p.mean - dist.mean).abs().max() < TOL, f"{kind}: the ego agent's action must not depend on entity order"
            assert (value_p - value).abs().max() < TOL, f"{kind}: the value must not depend on entity order"


def test_init_slope_egnn_is_biased_e2gn2_is_not():
    """Fresh policies: EGNN's mean tracks the agent's own position (slope > 0.8), E2GN2's does not (|slope| < 0.1)."""
    slope = {kind: movement_slope(lambda: GraphTeamActorCritic(kind, 3), inits=5, scenes=8) for kind in EQUIVARIANT}
    assert slope["egnn"] > 0.8, f"EGNN starts at u^L ~ u^0 (slope {slope['egnn']:.3f})"
    assert abs(slope["e2gn2"]) < 0.1, f"E2GN2 starts unbiased (slope {slope['e2gn2']:.3f})"
    per_init = movement_slope(lambda: GraphTeamActorCritic("egnn", 3), inits=3, scenes=4, pooled=False)
    assert per_init.shape == (3,) and np.all(per_init > 0.8), "one slope per initialisation"


# ----------------------------------------------------------------------------------------- PPO
@pytest.mark.parametrize("model", ["e2gn2", "egnn", "gnn", "mlp-mpe", "mlp-scene"])
def test_ppo_train_smoke(model):
    """ppo.train runs unchanged on SpreadAgents for two iterations with every policy, bootstrapping at the time limit."""
    obs_kind = "mpe" if model == "mlp-mpe" else "scene"
    env = SpreadAgents(num_envs=2, num_agents=3, obs=obs_kind, max_cycles=4)
    if model.startswith("mlp"):
        policy = MLPActorCritic(env.single_observation_space.shape[0], env.single_action_space)
    else:
        policy = GraphTeamActorCritic(model, 3, hidden=8)
    before = [p.detach().clone() for p in policy.parameters()]
    cfg = ppo.PPOConfig(total_timesteps=96, num_envs=env.num_envs, num_steps=8, num_minibatches=2, update_epochs=2)
    result = ppo.train(policy, env, cfg, seed=0)
    assert len(result.history) == 2 and result.global_step == 96, "two iterations of 6 streams x 8 steps"
    assert len(result.episodes) == 2 * 2 * 6 and {e["length"] for e in result.episodes} == {4}, "every stream ends an episode every 4 steps"
    assert all(np.isfinite(result.history[-1][k]) for k in ("losses/policy_loss", "losses/value_loss", "charts/episodic_return"))
    assert any(not torch.equal(b, p) for b, p in zip(before, policy.parameters())), "the update changed the parameters"


def test_docstring_examples():
    """The module's docstring examples run."""
    result = doctest.testmod(marl, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed"


@pytest.mark.parametrize("kind", ["gnn", "egnn", "e2gn2"])
def test_mean_movement_is_forwards_mean_without_the_critic(kind):
    env = SpreadAgents(3)
    obs = torch.as_tensor(env.reset(seed=1)[0])
    policy = GraphTeamActorCritic(kind, layers=1)
    with torch.no_grad():
        dist, _ = policy(obs)
        assert torch.equal(policy.mean_movement(obs), dist.mean)
    with pytest.raises(ValueError, match="scene observations"):
        policy.mean_movement(obs[:, :10])
