r"""Deep Q-learning (DQN) with replay, a target network, n-step returns and action masks.

The Q-network maps a batch of observations to Q-values and a mask of valid actions,
``q_net(obs) -> (q, mask)`` with ``q`` of shape ``(B, A)`` and ``mask`` bool ``(B, A)`` (or ``None``:
every action valid). ``A`` may change from batch to batch, e.g. the number of nodes of the largest
graph in the batch when the actions are nodes (see :func:`gnnrl_lite.graphs.pad_by_graph`). The
regression target for a transition :math:`(s_t, a_t)` with an :math:`n`-step return is

.. math::

    y_t = \sum_{k=0}^{m-1} \gamma^k r_{t+k} + \gamma^{m} (1 - d_{t+m})\, Q_{\bar\theta}\big(s_{t+m}, \arg\max_{a \in M(s_{t+m})} Q_\theta(s_{t+m}, a)\big),

where :math:`m \le n` stops early at the end of an episode, :math:`M(s)` is the set of valid actions,
:math:`\bar\theta` the target network's weights (copied from :math:`\theta` every
``target_network_frequency`` steps) and the inner arg max uses the online network (double DQN;
``double=False`` takes the max of the target network instead). The loss is the Huber loss between
:math:`Q_\theta(s_t, a_t)` and :math:`y_t`; actions are :math:`\epsilon`-greedy over the valid set
with :math:`\epsilon` decayed linearly. Time-limit truncations bootstrap from the final observation.

Logged per training step (every ``log_every`` environment steps): ``global_step``,
``charts/episodic_return`` (mean over episodes finished since the last row), ``charts/epsilon``,
``losses/td_loss``, ``losses/q_values`` (mean :math:`Q_\theta(s_t, a_t)`), ``charts/SPS``.

References
----------
Mnih et al., *Human-level control through deep reinforcement learning*, Nature 2015.
van Hasselt et al., *Deep Reinforcement Learning with Double Q-learning*, AAAI 2016.
Sutton and Barto, *Reinforcement Learning: An Introduction*, 2nd ed., 2018 (n-step returns).
"""

from __future__ import annotations

import copy
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from tqdm.std import tqdm

from ..graphs import collate_obs
from .ppo import check_vec_env

__all__ = ["DQNConfig", "DQNResult", "ReplayBuffer", "masked_argmax", "random_valid_actions", "train", "GreedyPolicy"]


@dataclass
class DQNConfig:
    """DQN hyperparameters (defaults: CleanRL's ``dqn.py`` for classic control, at a smaller scale)."""

    total_timesteps: int = 50_000
    """environment steps over all envs"""
    num_envs: int = 1
    """parallel environments (must equal ``envs.num_envs``)"""
    buffer_size: int = 10_000
    """replay capacity in transitions"""
    learning_rate: float = 2.5e-4
    """Adam learning rate"""
    gamma: float = 0.99
    """discount factor"""
    n_step: int = 1
    """return horizon :math:`n` of the bootstrapped target"""
    batch_size: int = 128
    """transitions per gradient step"""
    learning_starts: int = 1_000
    """environment steps before the first gradient step"""
    train_frequency: int = 4
    """environment steps between gradient steps"""
    target_network_frequency: int = 500
    """environment steps between target-network copies"""
    start_e: float = 1.0
    """initial exploration rate"""
    end_e: float = 0.05
    """final exploration rate"""
    exploration_fraction: float = 0.5
    """fraction of ``total_timesteps`` over which epsilon decays linearly"""
    double: bool = True
    """double DQN: choose the next action with the online network, evaluate it with the target"""
    max_grad_norm: float = 10.0
    """global gradient-norm clip"""
    log_every: int = 500
    """environment steps between log rows"""

    def __post_init__(self):
        for name in ("total_timesteps", "num_envs", "buffer_size", "n_step", "batch_size", "train_frequency",
                     "target_network_frequency", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"DQNConfig.{name} must be a positive integer; got {value!r}")
        if self.learning_starts < 0:
            raise ValueError(f"DQNConfig.learning_starts must be non-negative; got {self.learning_starts}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"DQNConfig.gamma must lie in [0, 1]; got {self.gamma}")
        for name in ("start_e", "end_e"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"DQNConfig.{name} must lie in [0, 1]; got {getattr(self, name)}")
        if not 0.0 < self.exploration_fraction <= 1.0:
            raise ValueError(f"DQNConfig.exploration_fraction must lie in (0, 1]; got {self.exploration_fraction}")
        if not self.learning_rate > 0:
            raise ValueError(f"DQNConfig.learning_rate must be positive; got {self.learning_rate}")

    def epsilon(self, step: int) -> float:
        """Linearly decayed exploration rate at ``step``."""
        duration = self.exploration_fraction * self.total_timesteps
        return max(self.end_e, self.start_e + (self.end_e - self.start_e) * step / duration)


@dataclass
class DQNResult:
    """What :func:`train` returns: one log row every ``log_every`` steps and one row per finished episode."""

    history: list[dict] = field(default_factory=list)
    episodes: list[dict] = field(default_factory=list)
    stopped_early: bool = False


def masked_argmax(q: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Index of the largest Q-value among valid actions per row: ``(B, A) -> (B,)``.

    Raises ``ValueError`` if a row has no valid action.
    """
    if mask is None:
        return q.argmax(dim=1)
    if mask.shape != q.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match Q-values {tuple(q.shape)}")
    if not bool(mask.any(dim=1).all()):
        raise ValueError("a row of the action mask has no valid action")
    return q.masked_fill(~mask, float("-inf")).argmax(dim=1)


def random_valid_actions(mask: torch.Tensor | None, num_actions: int, batch: int, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random valid action per row (any of ``num_actions`` if ``mask`` is None)."""
    if mask is None:
        return rng.integers(0, num_actions, size=batch)
    if not bool(mask.any(dim=1).all()):
        raise ValueError("a row of the action mask has no valid action")
    return np.array([rng.choice(np.flatnonzero(row)) for row in mask.cpu().numpy()])


class ReplayBuffer:
    r"""A ring buffer of n-step transitions :math:`(s_t, a_t, R_t, s_{t+m}, d, \gamma^m)`.

    Observations are stored as given (arrays or ``GraphInstance`` objects) and collated per sampled
    batch, so graphs of any size fit. :meth:`add_step` takes one vector-env step and emits
    transitions once ``n`` steps are available, or earlier at an episode's end.
    """

    def __init__(self, capacity: int, num_envs: int, n_step: int, gamma: float):
        if capacity < 1 or num_envs < 1 or n_step < 1:
            raise ValueError("capacity, num_envs and n_step must be positive")
        self.capacity, self.n_step, self.gamma = capacity, n_step, gamma
        self.storage: list[tuple] = []
        self.pos = 0
        self.pending = [deque() for _ in range(num_envs)]

    def __len__(self) -> int:
        return len(self.storage)

    def _push(self, item: tuple) -> None:
        if len(self.storage) < self.capacity:
            self.storage.append(item)
        else:
            self.storage[self.pos] = item
        self.pos = (self.pos + 1) % self.capacity

    def _emit(self, queue: deque, next_obs, done: bool) -> None:
        ret, discount = 0.0, 1.0
        for _, _, r in queue:
            ret += discount * r
            discount *= self.gamma
        obs, action, _ = queue[0]
        self._push((obs, action, ret, next_obs, float(done), discount))

    def add_step(self, obs, actions, rewards, next_obs, terminated, truncated, final_obs) -> None:
        """Record one vector step; ``final_obs[i]`` is the last observation of an episode that just ended."""
        for i, queue in enumerate(self.pending):
            queue.append((obs[i], actions[i], float(rewards[i])))
            ended = bool(terminated[i] or truncated[i])
            last = final_obs[i] if ended else next_obs[i]
            if ended:
                while queue:  # flush: shorter returns at the end of the episode
                    self._emit(queue, last, bool(terminated[i]))
                    queue.popleft()
            elif len(queue) == self.n_step:
                self._emit(queue, last, False)
                queue.popleft()

    def sample(self, batch_size: int, rng: np.random.Generator):
        """``batch_size`` transitions drawn uniformly: lists of observations and tensors of the rest."""
        if len(self.storage) == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, len(self.storage), size=batch_size)
        obs, actions, returns, next_obs, dones, discounts = zip(*(self.storage[i] for i in idx))
        return (list(obs), torch.as_tensor(np.array(actions), dtype=torch.int64), torch.as_tensor(returns, dtype=torch.float32),
                list(next_obs), torch.as_tensor(dones, dtype=torch.float32), torch.as_tensor(discounts, dtype=torch.float32))


def _split(obs):
    """One entry per environment; array rows are copied so later steps cannot overwrite them."""
    return [o.copy() for o in obs] if isinstance(obs, np.ndarray) else list(obs)


def _q_and_mask(q_net: nn.Module, batch):
    out = q_net(batch)
    q, mask = out if isinstance(out, tuple) else (out, None)
    if q.ndim != 2:
        raise ValueError(f"q_net must return Q-values of shape (B, A); got {tuple(q.shape)}")
    return q, mask


def train(q_net: nn.Module, envs: gym.vector.VectorEnv, cfg: DQNConfig, *, seed: int = 0,
          callback: Callable[[dict], bool] | None = None, progress: bool = True, desc: str = "DQN") -> DQNResult:
    """Train ``q_net`` with DQN on ``envs`` (a SAME_STEP-autoreset vector env with a Discrete action space)."""
    check_vec_env(envs, cfg.num_envs)
    if not isinstance(envs.single_action_space, gym.spaces.Discrete):
        raise TypeError("DQN needs a Discrete action space")
    collate = getattr(q_net, "collate", collate_obs)
    target_net = copy.deepcopy(q_net)
    for p in target_net.parameters():
        p.requires_grad_(False)
    params = [p for p in q_net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.learning_rate)
    rng = np.random.default_rng(seed)
    buffer = ReplayBuffer(cfg.buffer_size, cfg.num_envs, cfg.n_step, cfg.gamma)
    result = DQNResult()
    obs, _ = envs.reset(seed=seed)
    ep_return, ep_length = np.zeros(cfg.num_envs), np.zeros(cfg.num_envs, dtype=np.int64)
    losses, qs, finished = [], [], []
    start, next_log = time.perf_counter(), cfg.log_every
    bar = tqdm(total=cfg.total_timesteps, desc=desc, unit="step", disable=not progress, file=sys.stderr, mininterval=2.0, ncols=100)
    global_step = 0
    while global_step < cfg.total_timesteps:
        eps = cfg.epsilon(global_step)
        with torch.no_grad():
            q, mask = _q_and_mask(q_net, collate(obs))
        actions = masked_argmax(q, mask).cpu().numpy()
        explore = rng.random(cfg.num_envs) < eps
        if explore.any():
            actions = np.where(explore, random_valid_actions(mask, q.shape[1], cfg.num_envs, rng), actions)
        next_obs, rewards, terminated, truncated, info = envs.step(actions)
        ended = np.asarray(terminated) | np.asarray(truncated)
        final_obs = [info["final_obs"][i] if ended[i] else None for i in range(cfg.num_envs)]
        buffer.add_step(_split(obs), actions, rewards, _split(next_obs), terminated, truncated, final_obs)
        ep_return += rewards
        ep_length += 1
        global_step += cfg.num_envs
        for i in np.flatnonzero(ended):
            finished.append({"global_step": global_step, "return": float(ep_return[i]), "length": int(ep_length[i])})
            ep_return[i], ep_length[i] = 0.0, 0
        obs = next_obs

        if global_step > cfg.learning_starts and len(buffer) >= cfg.batch_size and global_step % cfg.train_frequency < cfg.num_envs:
            b_obs, b_act, b_ret, b_next, b_done, b_disc = buffer.sample(cfg.batch_size, rng)
            with torch.no_grad():
                q_next_target, mask_next = _q_and_mask(target_net, collate(b_next))
                if cfg.double:
                    q_next_online, _ = _q_and_mask(q_net, collate(b_next))
                    a_next = masked_argmax(q_next_online, mask_next)
                else:
                    a_next = masked_argmax(q_next_target, mask_next)
                bootstrap = q_next_target.gather(1, a_next[:, None]).squeeze(1)
                y = b_ret + b_disc * (1.0 - b_done) * bootstrap
            q_pred, _ = _q_and_mask(q_net, collate(b_obs))
            q_taken = q_pred.gather(1, b_act[:, None]).squeeze(1)
            loss = nn.functional.smooth_l1_loss(q_taken, y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            losses.append(loss.item())
            qs.append(q_taken.mean().item())
        if global_step % cfg.target_network_frequency < cfg.num_envs:
            target_net.load_state_dict(q_net.state_dict())

        bar.update(cfg.num_envs)
        if global_step >= next_log:
            next_log += cfg.log_every
            result.episodes.extend(finished)
            log = {"global_step": global_step,
                   "charts/episodic_return": float(np.mean([e["return"] for e in finished])) if finished else float("nan"),
                   "charts/epsilon": eps,
                   "losses/td_loss": float(np.mean(losses)) if losses else float("nan"),
                   "losses/q_values": float(np.mean(qs)) if qs else float("nan"),
                   "charts/SPS": global_step / (time.perf_counter() - start)}
            result.history.append(log)
            losses, qs, finished = [], [], []
            if callback is not None and callback(log):
                result.stopped_early = True
                break
    result.episodes.extend(finished)
    bar.close()
    return result


class _Greedy:
    """A degenerate distribution on the greedy action (what :func:`~gnnrl_lite.algos.ppo.evaluate` needs)."""

    def __init__(self, mode: torch.Tensor):
        self.mode = mode

    def sample(self) -> torch.Tensor:
        return self.mode


class GreedyPolicy(nn.Module):
    """Wrap a Q-network as a policy for :func:`gnnrl_lite.algos.ppo.evaluate`: it plays the greedy valid action.

    ``forward(obs)`` returns ``(dist, value)`` like the actor-critics, with ``dist.mode`` the arg max of
    the valid Q-values and ``value`` their maximum.
    """

    def __init__(self, q_net: nn.Module):
        super().__init__()
        self.q_net = q_net
        self.collate = getattr(q_net, "collate", collate_obs)

    def forward(self, obs):
        q, mask = _q_and_mask(self.q_net, obs)
        best = masked_argmax(q, mask)
        return _Greedy(best), q.gather(1, best[:, None]).squeeze(1)
