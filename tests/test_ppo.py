"""Tests for gnnrl_lite.algos.ppo: GAE against a plain loop, config checks, smoke tests of train/evaluate/Evaluator."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from gnnrl_lite.algos import ppo
from gnnrl_lite.algos.ppo import Evaluator, PPOConfig, PPOResult, compute_gae, evaluate, train
from gnnrl_lite.envs import PickMaxNodeEnv, make_vec_env
from gnnrl_lite.policies import MLPActorCritic, NodeScoreActorCritic

LOG_KEYS = {
    "global_step", "charts/episodic_return", "charts/episodic_length", "charts/learning_rate", "charts/SPS",
    "losses/policy_loss", "losses/value_loss", "losses/entropy", "losses/approx_kl", "losses/clipfrac",
    "losses/explained_variance",
}
TINY = dict(num_envs=2, num_steps=16, total_timesteps=64, num_minibatches=2, update_epochs=2)


def _gae_reference(rewards, values, dones, last_value, gamma, lam):
    """Plain-Python GAE: delta_t = r_t + g (1-d_t) V_{t+1} - V_t; A_t = delta_t + g l (1-d_t) A_{t+1}."""
    T, N = len(rewards), len(rewards[0])
    adv = [[0.0] * N for _ in range(T)]
    for n in range(N):
        running = 0.0
        for t in range(T - 1, -1, -1):
            next_v = last_value[n] if t == T - 1 else values[t + 1][n]
            nd = 0.0 if dones[t][n] else 1.0
            delta = rewards[t][n] + gamma * next_v * nd - values[t][n]
            running = delta + gamma * lam * nd * running
            adv[t][n] = running
    return adv


def _cartpole_policy():
    env = gym.make("CartPole-v1")
    return MLPActorCritic(env.observation_space.shape[0], env.action_space, hidden=(16,))


# ---------------------------------------------------------------- compute_gae


@pytest.mark.parametrize("T, N", [(1, 1), (7, 3), (12, 2)])
@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 0.0), (1.0, 1.0)])
def test_compute_gae_equals_plain_loop_reference(T, N, gamma, lam):
    """compute_gae equals a plain-Python loop on random rewards, values and random dones; returns = adv + values."""
    rewards, values = torch.randn(T, N), torch.randn(T, N)
    dones, last_value = torch.rand(T, N) < 0.3, torch.randn(N)
    adv, ret = compute_gae(rewards, values, dones, last_value, gamma, lam)
    ref = torch.tensor(_gae_reference(rewards.tolist(), values.tolist(), dones.tolist(), last_value.tolist(), gamma, lam))
    torch.testing.assert_close(adv, ref, rtol=1e-5, atol=1e-5, msg="GAE must equal the plain-loop reference")
    torch.testing.assert_close(ret, adv + values, msg="returns must equal advantages + values")


def test_compute_gae_lambda_one_gamma_one_is_reverse_cumsum():
    """With gamma = lam = 1 and no dones, advantages + values = reverse cumulative reward sum + last value."""
    rewards, values, last_value = torch.randn(9, 3), torch.randn(9, 3), torch.randn(3)
    adv, ret = compute_gae(rewards, values, torch.zeros(9, 3, dtype=torch.bool), last_value, 1.0, 1.0)
    expected = rewards.flip(0).cumsum(0).flip(0) + last_value
    torch.testing.assert_close(adv + values, expected, rtol=1e-5, atol=1e-5, msg="lam=gamma=1 GAE return must be the Monte-Carlo return")
    torch.testing.assert_close(ret, expected, rtol=1e-5, atol=1e-5, msg="returns must be the Monte-Carlo return")


def test_compute_gae_done_cuts_bootstrap():
    """A done at step t stops bootstrapping: A_t = r_t - V_t."""
    rewards, values = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.5], [0.25]])
    adv, _ = compute_gae(rewards, values, torch.tensor([[True], [False]]), torch.tensor([10.0]), 0.9, 0.8)
    assert adv[0, 0].item() == pytest.approx(1.0 - 0.5), "a done at step t must stop bootstrapping from step t+1"


def test_compute_gae_rejects_bad_shapes():
    """compute_gae raises ValueError naming the shapes for mismatched inputs or a wrong last_value."""
    with pytest.raises(ValueError, match=r"rewards, values and dones must share shape \(T, N\); got \(3, 2\), \(3, 1\)"):
        compute_gae(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3, 2), torch.zeros(2), 0.9, 0.9)
    with pytest.raises(ValueError, match=r"last_value must have shape \(2,\); got \(3,\)"):
        compute_gae(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3), 0.9, 0.9)


# ---------------------------------------------------------------- PPOConfig / PPOResult


@pytest.mark.parametrize("num_envs, num_steps, num_minibatches, total, iters", [(4, 128, 4, 100_000, 196), (2, 16, 2, 64, 2), (3, 5, 5, 16, 2)])
def test_ppo_config_derived_values(num_envs, num_steps, num_minibatches, total, iters):
    """batch_size = num_envs*num_steps, minibatch_size = batch_size//num_minibatches, num_iterations = ceil(total/batch)."""
    cfg = PPOConfig(num_envs=num_envs, num_steps=num_steps, num_minibatches=num_minibatches, total_timesteps=total)
    assert cfg.batch_size == num_envs * num_steps, "batch_size must be num_envs * num_steps"
    assert cfg.minibatch_size == cfg.batch_size // num_minibatches, "minibatch_size must be batch_size // num_minibatches"
    assert cfg.num_iterations == iters == math.ceil(total / cfg.batch_size), "num_iterations must be ceil(total_timesteps / batch_size)"
    assert set(cfg.as_dict()) >= {"total_timesteps", "num_envs", "learning_rate", "gamma", "target_kl"}, "as_dict must list every field"
    assert cfg.as_dict()["num_envs"] == num_envs, "as_dict must hold the field values"


@pytest.mark.parametrize("field, value", [
    ("total_timesteps", 0), ("num_envs", -1), ("num_steps", 2.5), ("num_minibatches", 0), ("update_epochs", 0),
    ("learning_rate", 0.0), ("clip_coef", -0.1), ("max_grad_norm", 0.0), ("adam_eps", float("nan")),
    ("gamma", 1.5), ("gae_lambda", -0.1),
])
def test_ppo_config_rejects_bad_values_naming_field(field, value):
    """PPOConfig raises ValueError naming the offending field for out-of-range values."""
    with pytest.raises(ValueError, match=rf"PPOConfig\.{field} must"):
        PPOConfig(**{field: value})


def test_ppo_config_rejects_indivisible_batch():
    """PPOConfig raises ValueError when batch_size is not divisible by num_minibatches."""
    with pytest.raises(ValueError, match="batch_size 10 .* must be divisible by num_minibatches 4"):
        PPOConfig(num_envs=2, num_steps=5, num_minibatches=4)


def test_ppo_result_global_step():
    """PPOResult.global_step is 0 without history and the last row's global_step otherwise."""
    r = PPOResult()
    assert r.global_step == 0 and not r.stopped_early, "an empty result must report global_step 0"
    r.history += [{"global_step": 8}, {"global_step": 16}]
    assert r.global_step == 16, "global_step must come from the last history row"


# ---------------------------------------------------------------- train


def test_train_cartpole_smoke_logs_documented_keys():
    """A tiny CartPole run finishes, logs every documented key per iteration, anneals lr and has approx_kl >= 0."""
    cfg = PPOConfig(**TINY)
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    res = train(_cartpole_policy(), envs, cfg, seed=0, progress=False)
    envs.close()
    assert len(res.history) == cfg.num_iterations == 2, "train must run num_iterations iterations"
    for i, row in enumerate(res.history, start=1):
        assert LOG_KEYS <= set(row), f"log row must have the documented keys; missing {LOG_KEYS - set(row)}"
        assert row["iteration"] == i and row["global_step"] == i * cfg.batch_size, "global_step must count all env steps"
        assert row["losses/approx_kl"] >= 0, "approx_kl must be non-negative"
        assert 0.0 <= row["losses/clipfrac"] <= 1.0, "clipfrac must be a fraction"
        assert all(np.isfinite(row[k]) for k in ("losses/policy_loss", "losses/value_loss", "losses/entropy", "charts/SPS")), "losses must be finite"
    assert res.history[0]["charts/learning_rate"] == pytest.approx(cfg.learning_rate), "lr must start at learning_rate"
    assert res.history[1]["charts/learning_rate"] == pytest.approx(cfg.learning_rate / 2), "lr must anneal linearly"
    assert res.global_step == 64 and not res.stopped_early, "result must report the final global_step"
    for ep in res.episodes:
        assert ep["length"] >= 1 and ep["return"] == pytest.approx(ep["length"]), "CartPole episode return must equal its length"


def test_train_bootstraps_at_time_limits_and_continuous_actions():
    """Training with time-limit truncations (final_obs bootstrap) and a Box action space runs and logs episodes."""
    cfg = PPOConfig(**TINY)
    envs = make_vec_env("Pendulum-v1", cfg.num_envs, max_episode_steps=5)
    env = gym.make("Pendulum-v1")
    res = train(MLPActorCritic(3, env.action_space, hidden=(8,)), envs, cfg, seed=1, progress=False)
    envs.close()
    assert len(res.episodes) == 2 * (32 // 5), "each of the 2 envs must finish an episode every 5 of its 32 steps"
    assert all(ep["length"] == 5 for ep in res.episodes), "truncated episodes must have length 5"
    assert all(np.isfinite(row["losses/value_loss"]) for row in res.history), "bootstrapped value loss must be finite"


def test_train_graph_env_smoke():
    """PPO trains NodeScoreActorCritic on PickMaxNodeEnv (graph observations, node action masks) for a tiny budget."""
    cfg = PPOConfig(**TINY)
    envs = make_vec_env(lambda: PickMaxNodeEnv(max_nodes=6), cfg.num_envs)
    res = train(NodeScoreActorCritic(node_dim=1, hidden=8, steps=2), envs, cfg, seed=0, progress=False)
    envs.close()
    assert len(res.history) == 2 and LOG_KEYS <= set(res.history[-1]), "graph PPO must log every documented key"
    assert len(res.episodes) == 64, "every PickMaxNode step ends a one-step episode"
    assert all(0.0 < ep["return"] <= 1.0 for ep in res.episodes), "masked policy must only pick valid nodes (reward > 0)"
    assert res.history[-1]["losses/approx_kl"] >= 0, "approx_kl must be non-negative"


def test_train_keeps_frozen_parameters_fixed():
    """A parameter with requires_grad=False is unchanged by train() while a trainable one changes."""
    cfg = PPOConfig(**TINY)
    policy = _cartpole_policy()
    frozen, trainable = policy.critic[0].weight, policy.actor[0].weight
    frozen.requires_grad_(False)
    frozen_before, trainable_before = frozen.detach().clone(), trainable.detach().clone()
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    train(policy, envs, cfg, progress=False)
    envs.close()
    assert torch.equal(frozen, frozen_before), "a frozen parameter must not change during training"
    assert not torch.equal(trainable.detach(), trainable_before), "a trainable parameter must change during training"


def test_train_rejects_all_frozen_policy():
    """train raises ValueError when the policy has no trainable parameters."""
    cfg = PPOConfig(**TINY)
    policy = _cartpole_policy().requires_grad_(False)
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    with pytest.raises(ValueError, match="policy has no trainable parameters"):
        train(policy, envs, cfg, progress=False)
    envs.close()


def test_train_rejects_env_without_same_step_autoreset():
    """train raises ValueError naming autoreset_mode for a vector env with the default NEXT_STEP autoreset."""
    cfg = PPOConfig(**TINY)
    envs = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 2)
    with pytest.raises(ValueError, match="envs must use autoreset_mode=AutoresetMode.SAME_STEP"):
        train(_cartpole_policy(), envs, cfg, progress=False)
    envs.close()


def test_train_rejects_num_envs_mismatch():
    """train raises ValueError naming PPOConfig.num_envs when it differs from envs.num_envs."""
    cfg = PPOConfig(**TINY)
    envs = make_vec_env("CartPole-v1", 4)
    with pytest.raises(ValueError, match="num_envs is 2 but envs has 4 environments"):
        train(_cartpole_policy(), envs, cfg, progress=False)
    envs.close()


def test_train_rejects_single_env():
    """train raises TypeError for a single (non-vector) env."""
    with pytest.raises(TypeError, match="envs must be a gymnasium VectorEnv"):
        train(_cartpole_policy(), gym.make("CartPole-v1"), PPOConfig(**TINY), progress=False)


def test_train_callback_true_stops_after_one_iteration():
    """A callback returning True stops training after the first iteration and sets stopped_early."""
    cfg = PPOConfig(**TINY)
    seen = []
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    res = train(_cartpole_policy(), envs, cfg, callback=lambda log: seen.append(log) or True, progress=False)
    envs.close()
    assert len(res.history) == 1 and len(seen) == 1 and res.stopped_early, "callback returning True must stop training"
    assert seen[0] is res.history[0], "the callback must receive the iteration's log row"


# ---------------------------------------------------------------- evaluate / Evaluator


def test_evaluate_returns_one_return_per_episode():
    """evaluate returns (episodes,) returns, is deterministic with mode actions, and restores training mode."""
    policy, env = _cartpole_policy(), gym.make("CartPole-v1")
    policy.train()
    r1 = evaluate(policy, env, episodes=3, seed=5)
    r2 = evaluate(policy, env, episodes=3, seed=5)
    assert r1.shape == (3,) and bool((r1 >= 1).all()), "evaluate must return one positive CartPole return per episode"
    np.testing.assert_array_equal(r1, r2, err_msg="deterministic evaluation with the same seeds must repeat")
    assert policy.training, "evaluate must restore the policy's training mode"
    capped = evaluate(policy, env, episodes=2, max_steps=3, deterministic=False)
    assert bool((capped <= 3).all()), "max_steps must cap episode length"


def test_evaluate_graph_policy():
    """evaluate works with a graph policy (collate) on PickMaxNodeEnv: returns lie in (0, 1]."""
    r = evaluate(NodeScoreActorCritic(node_dim=1, hidden=4), PickMaxNodeEnv(), episodes=4)
    assert r.shape == (4,) and bool(((r > 0) & (r <= 1)).all()), "graph evaluation must pick valid nodes"


def test_evaluate_rejects_vector_env_and_bad_episodes():
    """evaluate raises TypeError for a VectorEnv and ValueError for episodes < 1."""
    envs = make_vec_env("CartPole-v1", 2)
    with pytest.raises(TypeError, match="evaluate expects a single gymnasium Env, not a VectorEnv"):
        evaluate(_cartpole_policy(), envs)
    envs.close()
    with pytest.raises(ValueError, match="episodes must be at least 1; got 0"):
        evaluate(_cartpole_policy(), gym.make("CartPole-v1"), episodes=0)


def test_evaluator_stops_only_after_patience_consecutive_hits(monkeypatch):
    """Evaluator returns True only once the last `patience` evaluations all reach the target, evaluating every `every` iterations."""
    means = iter([10.0, 0.0, 10.0, 10.0, 10.0])
    calls = []

    def fake_evaluate(policy, env, episodes, *, seed):
        calls.append(seed)
        return np.full(episodes, next(means))

    monkeypatch.setattr(ppo, "evaluate", fake_evaluate)
    rows = []
    ev = Evaluator(env=None, policy=None, every=2, episodes=3, target=5.0, patience=2, seed=100, on_record=rows.append)
    stops = [ev({"iteration": i, "global_step": 10 * i}) for i in range(1, 9)]
    # evaluations happen at iterations 2, 4, 6, 8 with means 10, 0, 10, 10
    assert stops == [False, False, False, False, False, False, False, True], "must stop only after 2 consecutive hits"
    assert calls == [100, 103, 106, 109], "each evaluation must use fresh seeds seed + k * episodes"
    assert [r["mean_return"] for r in ev.records] == [10.0, 0.0, 10.0, 10.0], "records must hold each evaluation's mean"
    assert rows == ev.records and ev.records[0]["global_step"] == 20, "on_record must receive every row"
    assert ev.reached, "reached must be True after patience consecutive hits"


def test_evaluator_without_target_never_stops(monkeypatch):
    """An Evaluator with target=None records evaluations but never stops training."""
    monkeypatch.setattr(ppo, "evaluate", lambda policy, env, episodes, *, seed: np.ones(episodes))
    ev = Evaluator(None, None, every=1, episodes=2)
    assert not any(ev({"iteration": i, "global_step": i}) for i in range(1, 5)), "no target must never stop"
    assert len(ev.records) == 4 and ev.records[0]["std_return"] == 0.0, "every evaluation must be recorded"


def test_evaluator_with_an_env_factory_runs_the_same_episodes_batched():
    """Evaluator(make_env, ...) plays the episodes side by side and records the returns that evaluate() gets one by one."""
    policy = _cartpole_policy()
    one = Evaluator(gym.make("CartPole-v1"), policy, every=1, episodes=4, seed=7)
    batched = Evaluator(lambda: gym.make("CartPole-v1"), policy, every=1, episodes=4, seed=7)
    for i in (1, 2):
        one({"iteration": i, "global_step": i}), batched({"iteration": i, "global_step": i})
    assert one.records == batched.records, "the batched evaluation must reproduce evaluate()'s episodes and returns"
    assert policy.training, "the policy's training mode must be restored"


def test_evaluator_rejects_bad_every_and_patience():
    """Evaluator raises ValueError for every < 1 or patience < 1."""
    with pytest.raises(ValueError, match="every and patience must be at least 1; got 0 and 2"):
        Evaluator(None, None, every=0)
    with pytest.raises(ValueError, match="every and patience must be at least 1; got 5 and 0"):
        Evaluator(None, None, patience=0)


def test_evaluator_as_train_callback():
    """Evaluator with an easy target stops a real CartPole training run after `patience` evaluations."""
    cfg = PPOConfig(num_envs=2, num_steps=8, total_timesteps=160, num_minibatches=2, update_epochs=1)
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    policy = _cartpole_policy()
    ev = Evaluator(gym.make("CartPole-v1"), policy, every=1, episodes=1, target=1.0, patience=2)
    res = train(policy, envs, cfg, callback=ev, progress=False)
    envs.close()
    assert res.stopped_early and len(res.history) == 2 and len(ev.records) == 2, "training must stop after 2 evaluations at target"


class _ConstantEnv(gym.Env):
    """Zero reward, constant observation; terminates every step if `terminate`, else runs until a time limit."""

    observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminate: bool):
        self.terminate = terminate

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, self.terminate, False, {}


class _ConstantValuePolicy(torch.nn.Module):
    """Uniform two-action policy with a learnable constant value V(s) = c."""

    def __init__(self, c: float):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(2))
        self.c = torch.nn.Parameter(torch.tensor(c))

    def forward(self, obs):
        b = obs.shape[0]
        return torch.distributions.Categorical(logits=self.logits * torch.ones(b, 2)), self.c * torch.ones(b)


@pytest.mark.parametrize("terminate, expected", [(False, 0.5 * (10.0 - 0.5 * 10.0) ** 2), (True, 0.5 * 10.0**2)])
def test_train_bootstraps_value_only_at_truncation(terminate, expected):
    """Truncation adds gamma*V(final_obs) to the reward (value target gamma*c); termination does not (target 0)."""
    cfg = PPOConfig(num_envs=2, num_steps=4, total_timesteps=8, num_minibatches=1, update_epochs=1, gamma=0.5,
                    learning_rate=1e-9, anneal_lr=False)
    envs = make_vec_env(lambda: gym.wrappers.TimeLimit(_ConstantEnv(terminate), max_episode_steps=1), cfg.num_envs)
    res = train(_ConstantValuePolicy(10.0), envs, cfg, progress=False)
    envs.close()
    assert len(res.episodes) == 8, "every step must end a one-step episode"
    assert res.history[0]["losses/value_loss"] == pytest.approx(expected, rel=1e-4), (
        "value target must be r + gamma*V(final_obs) at truncation and r at termination")


def test_check_vec_env_accepts_make_vec_env_and_rejects_others():
    """check_vec_env passes for make_vec_env's envs and names the problem otherwise."""
    from gnnrl_lite.algos.ppo import check_vec_env

    envs = make_vec_env("CartPole-v1", 2)
    check_vec_env(envs, 2)
    with pytest.raises(ValueError, match="num_envs is 3"):
        check_vec_env(envs, 3)
    with pytest.raises(TypeError, match="VectorEnv"):
        check_vec_env(gym.make("CartPole-v1"), 1)
    with pytest.raises(ValueError, match="SAME_STEP"):
        check_vec_env(gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")]), 1)


# ---------------------------------------------------------------- checkpoints and the observe hook

RESUME = dict(num_envs=2, num_steps=16, total_timesteps=128, num_minibatches=2, update_epochs=2)  # 4 iterations


def _run(cfg, policy=None, **kwargs):
    """Train a CartPole policy (a fresh one unless given) with the given train() keywords; return (policy, result)."""
    policy = _cartpole_policy() if policy is None else policy
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    res = train(policy, envs, cfg, progress=False, **kwargs)
    envs.close()
    return policy, res


def _assert_same_run(a: PPOResult, b: PPOResult, msg: str) -> None:
    """Equal histories (except the wall-time SPS; NaN equals NaN) and episodes."""
    drop = lambda row: {k: v for k, v in row.items() if k != "charts/SPS"}  # noqa: E731
    np.testing.assert_equal([drop(r) for r in a.history], [drop(r) for r in b.history], err_msg=msg)
    np.testing.assert_equal(a.episodes, b.episodes, err_msg=msg)


def test_train_without_checkpoint_is_unchanged(tmp_path):
    """checkpoint=None gives the same history, episodes and parameters as a run without the argument; writing one changes nothing."""
    cfg = PPOConfig(**TINY)
    runs = []
    for kwargs in ({}, {"checkpoint": None}, {"checkpoint": tmp_path / "run.pt", "checkpoint_every": 1}):
        torch.manual_seed(0)
        runs.append(_run(cfg, **kwargs))
    (p0, r0), (p1, r1), (p2, r2) = runs
    _assert_same_run(r0, r1, "checkpoint=None must not change the run")
    _assert_same_run(r0, r2, "writing a checkpoint must not change the run")
    for p in (p1, p2):
        for (name, a), b in zip(p0.state_dict().items(), p.state_dict().values()):
            assert torch.equal(a, b), f"{name}: final parameters must be identical"
    assert [f.name for f in tmp_path.iterdir()] == ["run.pt"], "an atomic write must leave no temporary file behind"


def test_train_resumes_from_checkpoint_after_a_crash(tmp_path):
    """A run that crashes in iteration 3 (checkpoint every 2) resumes in a fresh policy from iteration 3 to the same total."""
    cfg, path = PPOConfig(**RESUME), tmp_path / "run.pt"

    def crash(log):
        if log["iteration"] == 3:
            raise KeyboardInterrupt("simulated end of the work session")

    with pytest.raises(KeyboardInterrupt):
        _run(cfg, checkpoint=path, checkpoint_every=2, callback=crash)
    saved = torch.load(path, weights_only=True)
    assert saved["iteration"] == 2 and saved["global_step"] == 2 * cfg.batch_size, "the last checkpoint must be iteration 2"
    policy, res = _run(cfg, checkpoint=path, checkpoint_every=2)
    assert [r["iteration"] for r in res.history] == [1, 2, 3, 4], "history must be continuous, without duplicates"
    assert [r["global_step"] for r in res.history] == [32, 64, 96, 128] and res.global_step == cfg.total_timesteps, "steps must continue"
    np.testing.assert_equal(res.history[:2], saved["history"], err_msg="the first iterations' rows must come from the checkpoint")
    lrs = [r["charts/learning_rate"] for r in res.history]
    assert lrs == pytest.approx([cfg.learning_rate * (1 - k / 4) for k in range(4)]), "the lr schedule must continue"
    assert all(bool(torch.isfinite(p).all()) for p in policy.parameters()), "resumed parameters must be finite"
    assert torch.load(path, weights_only=True)["iteration"] == 4, "the final iteration must be checkpointed"


def test_train_stopped_by_callback_then_resumed_matches_uninterrupted_length(tmp_path):
    """A run stopped by its callback after 2 iterations and resumed ends with as many iterations and steps as an uninterrupted one."""
    cfg, path = PPOConfig(**RESUME), tmp_path / "run.pt"
    _, full = _run(cfg)
    _, first = _run(cfg, checkpoint=path, callback=lambda log: log["iteration"] == 2)
    assert first.stopped_early and len(first.history) == 2, "the callback must stop the first part after 2 iterations"
    _, res = _run(cfg, checkpoint=path)
    assert len(res.history) == len(full.history) == cfg.num_iterations and not res.stopped_early, "same number of iterations"
    assert res.global_step == full.global_step, "same number of environment steps"
    assert [r["charts/learning_rate"] for r in res.history] == [r["charts/learning_rate"] for r in full.history], "same lr schedule"
    assert res.episodes[:len(first.episodes)] == first.episodes, "episodes of the first part must be kept"


def test_train_restores_policy_optimizer_and_generator_exactly(tmp_path):
    """Resuming a finished checkpoint restores the parameters and Adam state exactly and runs no further iteration."""
    cfg, path = PPOConfig(**TINY), tmp_path / "run.pt"
    trained, res = _run(cfg, checkpoint=path)
    restored, res2 = _run(cfg, checkpoint=path)
    for (name, a), b in zip(trained.state_dict().items(), restored.state_dict().values()):
        assert torch.equal(a, b), f"{name}: the checkpoint must restore the trained parameters exactly"
    saved = torch.load(path, weights_only=True)
    assert len(res2.history) == 2, "a finished run must not train further"
    np.testing.assert_equal(res2.history, saved["history"], err_msg="a finished run must return its history unchanged")
    assert set(saved) >= {"policy", "optimizer", "iteration", "global_step", "generator", "history", "episodes"}, "checkpoint contents"
    assert all(int(s["step"]) == 2 * 2 * 2 for s in saved["optimizer"]["state"].values()), "Adam state: 2 iterations x 2 epochs x 2 minibatches"


@pytest.mark.parametrize("change, match", [
    ({"hidden": (8,)}, "policy entries with other shapes: actor.0.weight"),
    ({"total_timesteps": 128}, "the PPOConfig differs .*total_timesteps: 64 there, 128 here"),
    ({"seed": 1}, "the seed differs"),
    ({"freeze": True}, "trainable .* parameters differ"),
    ({"policy": "pendulum"}, "policy entries"),
])
def test_train_rejects_mismatched_checkpoint(tmp_path, change, match):
    """A checkpoint from another policy shape, total_timesteps, seed or frozen set raises ValueError instead of mixing runs."""
    cfg, path = PPOConfig(**TINY), tmp_path / "run.pt"
    _run(cfg, checkpoint=path, callback=lambda log: True)
    cfg2 = PPOConfig(**{**TINY, "total_timesteps": change.get("total_timesteps", 64)})
    env = gym.make("CartPole-v1")
    policy = MLPActorCritic(4, env.action_space, hidden=change.get("hidden", (16,)))
    if change.get("freeze"):
        policy.critic[0].weight.requires_grad_(False)
    if change.get("policy") == "pendulum":
        policy = MLPActorCritic(4, gym.spaces.Box(-1.0, 1.0, (1,), np.float32), hidden=(16,))
    envs = make_vec_env("CartPole-v1", cfg.num_envs)
    with pytest.raises(ValueError, match=match):
        train(policy, envs, cfg2, seed=change.get("seed", 0), progress=False, checkpoint=path)
    envs.close()


def test_train_rejects_foreign_checkpoint_file_and_bad_every(tmp_path):
    """A file that is not a PPO checkpoint, or checkpoint_every < 1, raises ValueError."""
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="is not a PPO checkpoint"):
        _run(PPOConfig(**TINY), checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive integer; got 0"):
        _run(PPOConfig(**TINY), checkpoint=tmp_path / "run.pt", checkpoint_every=0)


class _CountingPolicy(_ConstantValuePolicy):
    """_ConstantValuePolicy that records every observe() call and whether gradients were on."""

    def __init__(self):
        super().__init__(0.0)
        self.calls = []

    def observe(self, obs):
        self.calls.append((tuple(obs.shape), torch.is_grad_enabled()))


def test_train_calls_observe_once_per_rollout_step():
    """observe(policy_input) is called once per rollout step with the (N, ...) batch, under no_grad, never in the update."""
    cfg = PPOConfig(num_envs=2, num_steps=4, total_timesteps=16, num_minibatches=2, update_epochs=3)
    policy = _CountingPolicy()
    envs = make_vec_env(lambda: _ConstantEnv(terminate=True), cfg.num_envs)
    train(policy, envs, cfg, progress=False)
    envs.close()
    assert len(policy.calls) == cfg.num_iterations * cfg.num_steps == 8, "one observe call per rollout step"
    assert all(c == ((2, 2), False) for c in policy.calls), "observe must get the (N, D) batch under no_grad"


def test_train_with_normalize_obs_counts_every_rollout_observation():
    """MLPActorCritic(normalize_obs=True) trained by PPO has seen exactly total_timesteps observations."""
    cfg = PPOConfig(**TINY)
    policy = MLPActorCritic(4, gym.make("CartPole-v1").action_space, hidden=(16,), normalize_obs=True)
    _run(cfg, policy)
    assert policy.obs_norm.count.item() == cfg.total_timesteps, "the normaliser must see every rollout observation once"
    assert bool((policy.obs_norm.var > 0).all()), "CartPole's observations vary, so every variance must be positive"
