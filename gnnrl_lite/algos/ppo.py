r"""Proximal Policy Optimisation (PPO) with GAE for vectorised Gymnasium environments.

One iteration collects ``num_steps`` transitions from each of ``num_envs`` environments, computes
generalised advantage estimates (Schulman et al., 2016),

.. math::

    \delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t), \qquad
    \hat A_t = \delta_t + \gamma \lambda (1 - d_t) \hat A_{t+1},

and then runs ``update_epochs`` passes of minibatch Adam on the clipped objective (Schulman et al., 2017)

.. math::

    L(\theta) = \mathbb{E}_t\big[\max\big(-\hat A_t\, \rho_t,\; -\hat A_t\, \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\big)\big]
    + c_v\, \mathbb{E}_t\big[(V(s_t) - \hat R_t)^2\big] / 2 - c_H\, \mathbb{E}_t\big[H[\pi(\cdot \mid s_t)]\big],

with :math:`\rho_t = \pi_\theta(a_t \mid s_t) / \pi_{\theta_\text{old}}(a_t \mid s_t)` and
:math:`\hat R_t = \hat A_t + V(s_t)`. Here :math:`d_t = 1` when the episode ends at step ``t``.
Time-limit truncations are *not* treated as failures: the value of the final observation is
bootstrapped into the reward, :math:`r_t \leftarrow r_t + \gamma V(s_{T})`.

The policy is any module with ``policy(obs) -> (dist, value)`` (see :mod:`gnnrl_lite.policies`);
observations are turned into ``obs`` by ``policy.collate`` if it exists, else
:func:`gnnrl_lite.graphs.collate_obs`, so GNN policies on batched graphs train unchanged.
Environments must be Gymnasium vector envs with ``autoreset_mode=SAME_STEP``
(:func:`gnnrl_lite.envs.make_vec_env` builds one).

**Running statistics.** If the policy has a method ``observe(obs)``, :func:`train` calls it once
per rollout step with that step's policy input (the batch of all environments, after the action
has been sampled, under ``torch.no_grad()``), and never during the update or in
:func:`evaluate`. Policies use it to update running statistics, e.g. an observation normaliser
(:class:`gnnrl_lite.nn.RunningNorm`; ``normalize_obs=True`` in
:class:`~gnnrl_lite.policies.MLPActorCritic` and :class:`~gnnrl_lite.nervenet.NerveNetActorCritic`).
The action at step ``t`` therefore uses the statistics of steps before ``t``. The update
normalises the stored raw observations with the statistics at the end of the rollout, so
:math:`\rho_t` starts slightly away from 1, by as much as the statistics moved during the rollout
(relatively about ``batch_size / count``: most in the first iteration). The logged ``approx_kl``
includes it; with the learning rate set to 0 on Centipede-4 (1024-step batches) it was
:math:`5 \times 10^{-4}` in the first iteration and at most :math:`2 \times 10^{-5}` afterwards for
NerveNet, below :math:`10^{-5}` for the MLP. NerveNet instead froze the statistics during a batch and
stored normalised observations.

**Checkpoints.** With ``checkpoint=path``, :func:`train` writes every ``checkpoint_every``
iterations and when it stops (atomically: a temporary file, then ``os.replace``) a file holding
the policy's ``state_dict`` (with normaliser buffers), the Adam state, the iteration, the global
step, the minibatch-shuffling generator's state, the history and episodes so far, the config and
the seed. If the file exists when :func:`train` starts, it is loaded (``torch.load(...,
weights_only=True)``; it holds only tensors, dicts, lists, numbers and strings) and training goes
on from the next iteration with the same learning-rate schedule, to the same
``total_timesteps``; a file written for another config, seed or policy (different class,
parameter names, shapes or frozen set) raises ``ValueError``. Environments cannot be saved, so
a resumed run resets them with ``seed + k`` (``k`` the iterations already done): episodes in
progress at the checkpoint are dropped and iterations after it are redone. PyTorch's global
random generator, which samples the actions, is not restored either. A resumed run is therefore
not bit-identical to an uninterrupted one, but the parameters, the optimiser, the shuffling and
the schedule continue exactly, and the history runs 1, 2, ... without gaps or repeats. A run
that a callback stopped resumes like an interrupted one; ``SPS`` counts the steps since the
(re)start.

Logged per iteration (keys of each ``history`` row):

==============================  =============================================================
``global_step``                 environment steps so far (all envs)
``charts/episodic_return``      mean return of episodes that ended in this iteration (NaN if none)
``charts/episodic_length``      their mean length
``charts/learning_rate``        the (annealed) learning rate
``charts/SPS``                  environment steps per second of wall time (since the start or resume)
``losses/policy_loss``          clipped surrogate loss, mean over minibatches
``losses/value_loss``           :math:`\tfrac12 (V - \hat R)^2`, mean over minibatches
``losses/entropy``              mean policy entropy
``losses/approx_kl``            :math:`\mathbb{E}[(\rho - 1) - \log \rho]` from the pre- to the
                                post-update policy, on the whole batch after the last epoch
``losses/clipfrac``             fraction of samples with :math:`|\rho - 1| > \epsilon`
``losses/explained_variance``   :math:`1 - \mathrm{Var}[\hat R - V] / \mathrm{Var}[\hat R]`
==============================  =============================================================

Derived in Chapter 1, section "PPO on CartPole".

References
----------
Schulman et al., *Proximal Policy Optimization Algorithms*, 2017.
Schulman et al., *High-Dimensional Continuous Control Using Generalized Advantage Estimation*, ICLR 2016.
Huang et al., *The 37 Implementation Details of Proximal Policy Optimization*, 2022 (CleanRL).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from tqdm.std import tqdm

import dgl

from ..graphs import collate_obs
from ..rollouts import run_episodes

__all__ = ["PPOConfig", "PPOResult", "compute_gae", "check_vec_env", "train", "evaluate", "Evaluator"]


@dataclass
class PPOConfig:
    """PPO hyperparameters (defaults follow CleanRL's ``ppo.py`` except ``total_timesteps``, ``clip_vloss`` and ``ent_coef``)."""

    total_timesteps: int = 100_000
    """environment steps over all envs; training stops after the iteration that reaches it"""
    num_envs: int = 4
    """parallel environments (must equal ``envs.num_envs``)"""
    num_steps: int = 128
    """steps per environment per iteration (rollout length)"""
    learning_rate: float = 2.5e-4
    """Adam learning rate"""
    anneal_lr: bool = True
    """decay the learning rate linearly to 0 over the iterations"""
    gamma: float = 0.99
    """discount factor :math:`\\gamma`"""
    gae_lambda: float = 0.95
    """GAE :math:`\\lambda`"""
    num_minibatches: int = 4
    """minibatches per epoch"""
    update_epochs: int = 4
    """passes over the batch per iteration"""
    norm_adv: bool = True
    """normalise advantages per minibatch to mean 0, std 1"""
    clip_coef: float = 0.2
    """surrogate clipping :math:`\\epsilon`"""
    clip_vloss: bool = False
    """clip the value loss around the old values, as in the PPO code release"""
    ent_coef: float = 0.0
    """entropy bonus coefficient :math:`c_H`"""
    vf_coef: float = 0.5
    """value loss coefficient :math:`c_v`"""
    max_grad_norm: float = 0.5
    """global gradient-norm clip"""
    target_kl: float | None = None
    """stop the epochs early once a minibatch's approximate KL exceeds this (None: never)"""
    adam_eps: float = 1e-5
    """Adam epsilon"""

    def __post_init__(self):
        for name in ("total_timesteps", "num_envs", "num_steps", "num_minibatches", "update_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"PPOConfig.{name} must be a positive integer; got {value!r}")
        for name in ("learning_rate", "clip_coef", "max_grad_norm", "adam_eps"):
            if not getattr(self, name) > 0:
                raise ValueError(f"PPOConfig.{name} must be positive; got {getattr(self, name)!r}")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"PPOConfig.{name} must lie in [0, 1]; got {getattr(self, name)!r}")
        if self.batch_size % self.num_minibatches:
            raise ValueError(f"PPOConfig: batch_size {self.batch_size} (num_envs * num_steps) must be divisible by num_minibatches {self.num_minibatches}")

    @property
    def batch_size(self) -> int:
        """transitions per iteration, ``num_envs * num_steps``"""
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        """``batch_size // num_minibatches``"""
        return self.batch_size // self.num_minibatches

    @property
    def num_iterations(self) -> int:
        """``ceil(total_timesteps / batch_size)``"""
        return math.ceil(self.total_timesteps / self.batch_size)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class PPOResult:
    """What :func:`train` returns: one log row per iteration and one row per finished episode."""

    history: list[dict] = field(default_factory=list)
    episodes: list[dict] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def global_step(self) -> int:
        return self.history[-1]["global_step"] if self.history else 0


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, last_value: torch.Tensor, gamma: float, lam: float):
    r"""Generalised advantage estimation, backwards over a rollout.

    Parameters
    ----------
    rewards, values, dones : torch.Tensor
        Shape ``(T, N)``: reward :math:`r_t`, value :math:`V(s_t)`, and :math:`d_t = 1` if the
        episode ended at step ``t`` (then :math:`s_{t+1}` belongs to a new episode).
    last_value : torch.Tensor
        Shape ``(N,)``: :math:`V(s_T)` for the observation after the rollout.
    gamma, lam : float
        :math:`\gamma` and :math:`\lambda`.

    Returns
    -------
    advantages, returns : torch.Tensor
        Shape ``(T, N)``; ``returns = advantages + values``.
    """
    if not (rewards.shape == values.shape == dones.shape) or rewards.ndim != 2:
        raise ValueError(f"rewards, values and dones must share shape (T, N); got {tuple(rewards.shape)}, {tuple(values.shape)}, {tuple(dones.shape)}")
    if last_value.shape != rewards.shape[1:]:
        raise ValueError(f"last_value must have shape ({rewards.shape[1]},); got {tuple(last_value.shape)}")
    T = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last_gae = torch.zeros_like(last_value)
    for t in reversed(range(T)):
        next_value = last_value if t == T - 1 else values[t + 1]
        not_done = 1.0 - dones[t].float()
        delta = rewards[t] + gamma * next_value * not_done - values[t]
        last_gae = delta + gamma * lam * not_done * last_gae
        advantages[t] = last_gae
    return advantages, advantages + values


def check_vec_env(envs, num_envs: int) -> None:
    """Raise unless ``envs`` is a Gymnasium vector env of ``num_envs`` envs with same-step autoreset."""
    if not isinstance(envs, gym.vector.VectorEnv):
        raise TypeError(f"envs must be a gymnasium VectorEnv (see gnnrl_lite.envs.make_vec_env); got {type(envs).__name__}")
    if envs.num_envs != num_envs:
        raise ValueError(f"the config's num_envs is {num_envs} but envs has {envs.num_envs} environments")
    mode = envs.metadata.get("autoreset_mode")
    if mode != gym.vector.AutoresetMode.SAME_STEP:
        raise ValueError(f"envs must use autoreset_mode=AutoresetMode.SAME_STEP (got {mode}); build them with gnnrl_lite.envs.make_vec_env")


class _Storage:
    """Rollout observations for the minibatch updates.

    Tensors ``(N, ...)`` per step (the policy inputs computed during the rollout) are stacked to
    ``(T * N, ...)``. For graph policies the raw observations are kept and each minibatch is
    collated afresh with the policy's ``collate``, which builds one batched ``DGLGraph`` in a single
    call (cheaper than unbatching the rollout's batches and re-batching the pieces). Index
    ``t * N + n`` is environment ``n`` at step ``t``, matching ``reshape(-1)`` of a ``(T, N)`` tensor.
    """

    def __init__(self, steps: list, raw_steps: list, collate: Callable):
        if isinstance(steps[0], torch.Tensor):
            self.tensor, self.raw = torch.cat(steps), None
        elif isinstance(steps[0], dgl.DGLGraph):
            self.tensor, self.raw, self.collate = None, [o for step in raw_steps for o in step], collate
        else:
            raise TypeError(f"policy inputs must be tensors or DGLGraphs; collate returned {type(steps[0]).__name__}")

    def take(self, idx: np.ndarray):
        if self.tensor is not None:
            return self.tensor[torch.as_tensor(idx)]
        return self.collate([self.raw[i] for i in idx])


_CHECKPOINT_FORMAT = "gnnrl_lite.algos.ppo/1"  # the "format" entry of the checkpoints train() writes


def _plain(x):
    """``x`` with NumPy scalars turned into Python numbers, recursively, so ``torch.load(weights_only=True)`` can read it."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x.item() if isinstance(x, np.generic) else x


def _save_checkpoint(path: Path, policy: nn.Module, optimizer: torch.optim.Optimizer, gen: torch.Generator, cfg: PPOConfig,
                     seed: int, iteration: int, global_step: int, result: PPOResult) -> None:
    """Write a checkpoint atomically: a temporary file in the same folder, then ``os.replace``."""
    state = {
        "format": _CHECKPOINT_FORMAT,
        "config": _plain(cfg.as_dict()),
        "seed": int(seed),
        "policy_class": type(policy).__name__,
        "trainable": [name for name, p in policy.named_parameters() if p.requires_grad],
        "policy": policy.state_dict(),
        "optimizer": optimizer.state_dict(),
        "iteration": int(iteration),
        "global_step": int(global_step),
        "generator": gen.get_state(),
        "history": _plain(result.history),
        "episodes": _plain(result.episodes),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _load_checkpoint(path: Path, policy: nn.Module, optimizer: torch.optim.Optimizer, gen: torch.Generator, cfg: PPOConfig,
                     seed: int) -> dict:
    """Check that ``path`` was written by this run's config, seed and policy, then restore policy, optimiser and generator."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"cannot read the PPO checkpoint {path} ({type(err).__name__}: {err}); delete it to start afresh") from err
    if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{path} is not a PPO checkpoint of this version (format {found!r}, expected {_CHECKPOINT_FORMAT!r})")
    problems = []
    saved, now = state["config"], _plain(cfg.as_dict())
    diff = [f"{k}: {saved.get(k)!r} there, {now.get(k)!r} here" for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    if diff:
        problems.append("the PPOConfig differs (" + "; ".join(diff) + ")")
    if state["seed"] != int(seed):
        problems.append(f"the seed differs ({state['seed']} there, {seed} here)")
    if state["policy_class"] != type(policy).__name__:
        problems.append(f"the policy class differs ({state['policy_class']} there, {type(policy).__name__} here)")
    ours, theirs = policy.state_dict(), state["policy"]
    missing, unexpected = [k for k in ours if k not in theirs], [k for k in theirs if k not in ours]
    shapes = [f"{k} {tuple(theirs[k].shape)} there, {tuple(ours[k].shape)} here" for k in ours
              if k in theirs and tuple(theirs[k].shape) != tuple(ours[k].shape)]
    for what, names in (("missing from the checkpoint", missing), ("not in this policy", unexpected), ("with other shapes", shapes)):
        if names:
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            problems.append(f"{len(names)} policy entries {what}: " + ", ".join(names[:5]) + more)
    trainable = [name for name, p in policy.named_parameters() if p.requires_grad]
    if not missing and not unexpected and state["trainable"] != trainable:
        problems.append("the trainable (not frozen) parameters differ: "
                        f"{sorted(set(state['trainable']) ^ set(trainable))[:5]} are trainable in only one of them")
    if not 0 <= state["iteration"] <= cfg.num_iterations:
        problems.append(f"its iteration {state['iteration']} is outside 0..{cfg.num_iterations}")
    if problems:
        raise ValueError(f"the PPO checkpoint {path} does not match this run: " + "; ".join(problems)
                         + ". Pass another checkpoint path (or delete the file) to start afresh.")
    policy.load_state_dict(theirs)
    optimizer.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"])
    return state


def train(
    policy: nn.Module,
    envs: gym.vector.VectorEnv,
    cfg: PPOConfig,
    *,
    seed: int = 0,
    callback: Callable[[dict], bool] | None = None,
    progress: bool = True,
    desc: str = "PPO",
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 10,
) -> PPOResult:
    """Train ``policy`` on ``envs`` with PPO; returns a :class:`PPOResult`.

    Parameters
    ----------
    policy : torch.nn.Module
        ``policy(obs) -> (dist, value)``; trainable parameters are those with ``requires_grad``
        (so frozen parts stay fixed). An ``observe(obs)`` method, if it has one, is called once
        per rollout step (module docstring, "Running statistics").
    envs : gymnasium.vector.VectorEnv
        ``cfg.num_envs`` environments with ``autoreset_mode=SAME_STEP``.
    cfg : PPOConfig
        Hyperparameters.
    seed : int
        Seeds ``envs.reset`` and the minibatch shuffling.
    callback : callable, optional
        Called with each iteration's log row (after the update); returning ``True`` stops training
        (e.g. an :class:`Evaluator` that has reached its target return).
    progress : bool
        Show a tqdm progress bar over environment steps.
    desc : str
        The progress bar's label.
    checkpoint : str or pathlib.Path, optional
        Resumable training (module docstring, "Checkpoints"): write the training state to this
        file every ``checkpoint_every`` iterations and when training stops, and resume from it
        if it exists. ``None`` (default): no file is read or written.
    checkpoint_every : int
        Iterations between checkpoint writes (the last iteration is always written).

    Raises
    ------
    ValueError
        For a checkpoint written by another config, seed or policy, or an unreadable one.
    """
    check_vec_env(envs, cfg.num_envs)
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be a positive integer; got {checkpoint_every!r}")
    observe = getattr(policy, "observe", None)
    collate = getattr(policy, "collate", collate_obs)
    act_space = envs.single_action_space
    continuous = isinstance(act_space, spaces.Box)
    params = [p for p in policy.parameters() if p.requires_grad]
    if not params:
        raise ValueError("policy has no trainable parameters (all frozen?)")
    optimizer = torch.optim.Adam(params, lr=cfg.learning_rate, eps=cfg.adam_eps)
    gen = torch.Generator().manual_seed(seed)
    result = PPOResult()
    T, N = cfg.num_steps, cfg.num_envs
    path = None if checkpoint is None else Path(checkpoint)
    done_iterations, global_step = 0, 0
    if path is not None and path.exists():
        state = _load_checkpoint(path, policy, optimizer, gen, cfg, seed)
        done_iterations, global_step = state["iteration"], state["global_step"]
        result.history, result.episodes = state["history"], state["episodes"]

    if done_iterations < cfg.num_iterations:
        obs, _ = envs.reset(seed=seed if done_iterations == 0 else seed + done_iterations)  # resumed: seed + k
    ep_return, ep_length = np.zeros(N), np.zeros(N, dtype=np.int64)
    start_step, start = global_step, time.perf_counter()
    bar = tqdm(total=cfg.num_iterations * cfg.batch_size, initial=global_step, desc=desc, unit="step", disable=not progress,
               file=sys.stderr, mininterval=2.0, dynamic_ncols=False, ncols=100)

    for iteration in range(done_iterations + 1, cfg.num_iterations + 1):
        lr = cfg.learning_rate * (1.0 - (iteration - 1.0) / cfg.num_iterations if cfg.anneal_lr else 1.0)
        optimizer.param_groups[0]["lr"] = lr
        obs_steps, raw_steps, actions, logprobs, rewards, dones, values = [], [], [], [], [], [], []
        finished = []

        # ---- rollout: one batched forward pass for all environments per step ----
        for _ in range(T):
            policy_input = collate(obs)
            obs_steps.append(policy_input)
            raw_steps.append(list(obs) if isinstance(policy_input, dgl.DGLGraph) else None)
            with torch.no_grad():
                dist, value = policy(policy_input)
                action = dist.sample()
                logprob = dist.log_prob(action)
                if observe is not None:  # running statistics (e.g. a normaliser) see the step after acting on it
                    observe(policy_input)
            env_action = action.cpu().numpy()
            if continuous:
                env_action = np.clip(env_action, act_space.low, act_space.high)
            obs, reward, terminated, truncated, info = envs.step(env_action)
            reward = np.asarray(reward, dtype=np.float64)
            ep_return += reward
            ep_length += 1
            trunc_only = np.asarray(truncated) & ~np.asarray(terminated)
            if trunc_only.any():  # bootstrap V(final observation) at time limits
                idx = np.flatnonzero(trunc_only)
                with torch.no_grad():
                    _, v_final = policy(collate([info["final_obs"][i] for i in idx]))
                reward = reward.copy()
                reward[idx] += cfg.gamma * v_final.detach().cpu().numpy()
            done = np.asarray(terminated) | np.asarray(truncated)
            for i in np.flatnonzero(done):
                finished.append({"global_step": global_step + N, "return": float(ep_return[i]), "length": int(ep_length[i])})
                ep_return[i], ep_length[i] = 0.0, 0
            global_step += N
            actions.append(action)
            logprobs.append(logprob)
            values.append(value)
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
            dones.append(torch.as_tensor(done))

        with torch.no_grad():
            _, last_value = policy(collate(obs))
        values_t, rewards_t, dones_t = torch.stack(values), torch.stack(rewards), torch.stack(dones)
        advantages, returns = compute_gae(rewards_t, values_t, dones_t, last_value, cfg.gamma, cfg.gae_lambda)

        # ---- flatten (T, N) -> (T*N,) ----
        storage = _Storage(obs_steps, raw_steps, collate)
        b_actions = torch.stack(actions).reshape((T * N,) + actions[0].shape[1:])
        b_logprobs, b_adv, b_returns, b_values = (x.reshape(-1) for x in (torch.stack(logprobs), advantages, returns, values_t))

        # ---- update ----
        pg_losses, v_losses, entropies, clipfracs = [], [], [], []
        for _epoch in range(cfg.update_epochs):
            perm = torch.randperm(cfg.batch_size, generator=gen).numpy()
            stop = False
            for s in range(0, cfg.batch_size, cfg.minibatch_size):
                mb = perm[s:s + cfg.minibatch_size]
                dist, new_value = policy(storage.take(mb))
                new_logprob = dist.log_prob(b_actions[mb])
                entropy = dist.entropy()
                logratio = new_logprob - b_logprobs[mb]
                ratio = logratio.exp()
                with torch.no_grad():
                    mb_kl = ((ratio - 1) - logratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > cfg.clip_coef).float().mean().item())
                mb_adv = b_adv[mb]
                if cfg.norm_adv and len(mb) > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss1 = -mb_adv * ratio
                pg_loss2 = -mb_adv * torch.clamp(ratio, 1 - cfg.clip_coef, 1 + cfg.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                if cfg.clip_vloss:
                    v_clipped = b_values[mb] + torch.clamp(new_value - b_values[mb], -cfg.clip_coef, cfg.clip_coef)
                    v_loss = 0.5 * torch.max((new_value - b_returns[mb]) ** 2, (v_clipped - b_returns[mb]) ** 2).mean()
                else:
                    v_loss = 0.5 * ((new_value - b_returns[mb]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - cfg.ent_coef * entropy_loss + cfg.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                pg_losses.append(pg_loss.item()), v_losses.append(v_loss.item()), entropies.append(entropy_loss.item())
                if cfg.target_kl is not None and mb_kl.item() > cfg.target_kl:
                    stop = True
                    break
            if stop:
                break

        # ---- KL from the pre- to the post-update policy on the whole batch ----
        with torch.no_grad():
            kls = []
            for s in range(0, cfg.batch_size, cfg.minibatch_size):
                mb = np.arange(s, min(s + cfg.minibatch_size, cfg.batch_size))
                dist, _ = policy(storage.take(mb))
                logratio = dist.log_prob(b_actions[mb]) - b_logprobs[mb]
                kls.append(((logratio.exp() - 1) - logratio))
            approx_kl = torch.cat(kls).mean().item()
        var_y = b_returns.var().item()
        explained_var = float("nan") if var_y == 0 else 1.0 - (b_returns - b_values).var().item() / var_y

        result.episodes.extend(finished)
        log = {
            "iteration": iteration,
            "global_step": global_step,
            "charts/episodic_return": float(np.mean([e["return"] for e in finished])) if finished else float("nan"),
            "charts/episodic_length": float(np.mean([e["length"] for e in finished])) if finished else float("nan"),
            "charts/learning_rate": lr,
            "charts/SPS": (global_step - start_step) / (time.perf_counter() - start),
            "losses/policy_loss": float(np.mean(pg_losses)),
            "losses/value_loss": float(np.mean(v_losses)),
            "losses/entropy": float(np.mean(entropies)),
            "losses/approx_kl": approx_kl,
            "losses/clipfrac": float(np.mean(clipfracs)),
            "losses/explained_variance": explained_var,
        }
        result.history.append(log)
        bar.update(cfg.batch_size)
        if finished:
            bar.set_postfix(ret=f"{log['charts/episodic_return']:.1f}", refresh=False)
        stop = callback is not None and bool(callback(log))
        if path is not None and (stop or iteration % checkpoint_every == 0 or iteration == cfg.num_iterations):
            _save_checkpoint(path, policy, optimizer, gen, cfg, seed, iteration, global_step, result)
        if stop:
            result.stopped_early = True
            break
    bar.close()
    return result


def evaluate(policy: nn.Module, env: gym.Env, episodes: int = 10, *, seed: int = 0, deterministic: bool = True, max_steps: int | None = None) -> np.ndarray:
    """Run ``episodes`` episodes on a single (non-vector) env and return their returns, shape ``(episodes,)``.

    Episode ``k`` resets with ``seed + k``; ``deterministic`` takes ``dist.mode`` instead of sampling.
    """
    if isinstance(env, gym.vector.VectorEnv):
        raise TypeError("evaluate expects a single gymnasium Env, not a VectorEnv")
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1; got {episodes}")
    collate = getattr(policy, "collate", collate_obs)
    continuous = isinstance(env.action_space, spaces.Box)
    returns = np.zeros(episodes)
    was_training = policy.training
    policy.eval()
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        done, steps = False, 0
        while not done:
            with torch.no_grad():
                dist, _ = policy(collate([obs]))
                action = (dist.mode if deterministic else dist.sample())[0].cpu().numpy()
            if continuous:
                action = np.clip(action, env.action_space.low, env.action_space.high)
            obs, reward, terminated, truncated, _ = env.step(action if continuous else int(action))
            returns[k] += float(reward)
            steps += 1
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
    policy.train(was_training)
    return returns


class Evaluator:
    """A PPO callback that evaluates every ``every`` iterations and stops once a target is held.

    Training stops when the last ``patience`` evaluations all have a mean return of at least
    ``target`` (one lucky evaluation is not enough). Each evaluation uses fresh episode seeds.

    ``records`` collects ``{"global_step", "mean_return", "std_return"}`` rows; ``on_record`` (if
    given) is called with each row, e.g. to append it to a CSV file as it is produced.

    Parameters
    ----------
    env : gymnasium.Env or callable
        A single evaluation env (not the training envs), played one episode at a time by
        :func:`evaluate`; or a zero-argument callable that makes one, and then the episodes of an
        evaluation run side by side through :func:`gnnrl_lite.rollouts.run_episodes` (one batched
        forward per step: the same episodes and returns, much faster for long episodes).
    policy : torch.nn.Module
        The policy being trained.
    every : int
        Evaluate every ``every`` PPO iterations.
    episodes : int
        Episodes per evaluation.
    target : float, optional
        Stop training once ``patience`` consecutive mean evaluation returns are at least ``target``.
    patience : int
        Number of consecutive evaluations that must reach ``target``.
    seed : int
        Evaluation ``k`` uses episode seeds ``seed + k * episodes, ...`` (new episodes every time).
    """

    def __init__(self, env: gym.Env, policy: nn.Module, *, every: int = 5, episodes: int = 10, target: float | None = None,
                 patience: int = 2, seed: int = 10_000, on_record: Callable[[dict], None] | None = None):
        if every < 1 or patience < 1:
            raise ValueError(f"every and patience must be at least 1; got {every} and {patience}")
        self.env, self.policy, self.every, self.episodes, self.target, self.seed = env, policy, every, episodes, target, seed
        self.patience = patience
        self.on_record = on_record
        self.records: list[dict] = []

    def __call__(self, log: dict) -> bool:
        if log["iteration"] % self.every:
            return False
        seed = self.seed + len(self.records) * self.episodes
        if isinstance(self.env, gym.Env) or not callable(self.env):
            returns = evaluate(self.policy, self.env, self.episodes, seed=seed)
        else:
            was_training = self.policy.training
            self.policy.eval()
            returns = np.array([e["return"] for e in run_episodes(self.policy, self.env, self.episodes, num_envs=self.episodes, seed=seed)])
            self.policy.train(was_training)
        row = {"global_step": log["global_step"], "mean_return": float(returns.mean()), "std_return": float(returns.std())}
        self.records.append(row)
        if self.on_record is not None:
            self.on_record(row)
        return self.reached

    @property
    def reached(self) -> bool:
        """Whether the last ``patience`` evaluations all reached ``target``."""
        last = self.records[-self.patience:]
        return self.target is not None and len(last) == self.patience and all(r["mean_return"] >= self.target for r in last)
