r"""Batched evaluation: play many episodes at once with one forward pass per step.

:func:`gnnrl_lite.algos.ppo.evaluate` plays one episode at a time, which is simple but slow for a
GNN policy whose cost is mostly per call. :func:`run_episodes` keeps ``num_envs`` single
environments in flight, collates the observations of the unfinished ones into one batch
(for graph policies, one batched ``DGLGraph``), and starts the next episode in an environment as
soon as its current one ends. Episode ``k`` always resets with seed ``seed + k``, so the set of
episodes does not depend on ``num_envs``.

Each finished episode is summarised by a dict:

=================  ==========================================================
``episode``        its index ``k`` (the list is sorted by it)
``return``         undiscounted return :math:`\sum_t r_t`
``length``         number of steps
``terminated``     whether it ended by termination (e.g. reaching the goal)
``reset_info``     the ``info`` dict that ``reset`` returned
``final_info``     the ``info`` dict of the last ``step``
=================  ==========================================================
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from .graphs import collate_obs

__all__ = ["run_episodes"]


def run_episodes(policy: nn.Module, make_env: Callable[[], gym.Env], episodes: int, *, num_envs: int = 16,
                 seed: int = 0, deterministic: bool = True, reset_options: dict | list[dict] | None = None) -> list[dict]:
    """Play ``episodes`` episodes of ``make_env()`` environments with ``policy``; one batched forward per step.

    Parameters
    ----------
    policy : torch.nn.Module
        ``policy(obs) -> (dist, value)`` (see :mod:`gnnrl_lite.policies`); ``policy.collate`` (if
        present, else :func:`gnnrl_lite.graphs.collate_obs`) batches the observations.
    make_env : callable
        Returns a new single (non-vector) Gymnasium env; called ``min(num_envs, episodes)`` times.
    episodes : int
        Number of episodes; episode ``k`` resets with seed ``seed + k``.
    num_envs : int
        Episodes in flight at once.
    deterministic : bool
        Play ``dist.mode`` (greedy) instead of sampling.
    reset_options : dict or list of dict, optional
        Passed as ``options`` to every ``reset``; a list gives episode ``k`` its own
        ``reset_options[k]`` (e.g. a fixed test set of graphs), and must have ``episodes`` entries.

    Returns
    -------
    list of dict
        One summary per episode, sorted by episode index (keys in the module docstring).
    """
    if not callable(make_env):
        raise TypeError(f"make_env must be a callable returning an env; got {type(make_env).__name__}")
    for name, value in (("episodes", episodes), ("num_envs", num_envs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if isinstance(reset_options, (list, tuple)) and len(reset_options) != episodes:
        raise ValueError(f"reset_options has {len(reset_options)} entries for {episodes} episodes; give one per episode")
    if reset_options is not None and not isinstance(reset_options, (dict, list, tuple)):
        raise TypeError(f"reset_options must be a dict or a list of dicts; got {type(reset_options).__name__}")
    collate = getattr(policy, "collate", collate_obs)
    envs = [make_env() for _ in range(min(num_envs, episodes))]
    if isinstance(envs[0], gym.vector.VectorEnv):
        raise TypeError("make_env must return a single gymnasium Env, not a VectorEnv")
    continuous = isinstance(envs[0].action_space, spaces.Box)
    generator = torch.Generator().manual_seed(seed)
    results: list[dict] = []
    slots: list[dict | None] = [None] * len(envs)  # the episode each env is playing
    obs: list = [None] * len(envs)
    next_episode = 0

    def start(i: int) -> None:
        nonlocal next_episode
        options = reset_options[next_episode] if isinstance(reset_options, (list, tuple)) else reset_options
        obs[i], info = envs[i].reset(seed=seed + next_episode, options=options)
        slots[i] = {"episode": next_episode, "return": 0.0, "length": 0, "terminated": False, "reset_info": info, "final_info": {}}
        next_episode += 1

    for i in range(len(envs)):
        start(i)
    was_training = policy.training
    policy.eval()
    try:
        while any(s is not None for s in slots):
            active = [i for i, s in enumerate(slots) if s is not None]
            with torch.no_grad():
                dist, _ = policy(collate([obs[i] for i in active]))
                if deterministic:
                    actions = dist.mode
                else:
                    with torch.random.fork_rng():
                        torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
                        actions = dist.sample()
            actions = actions.cpu().numpy()
            for row, i in enumerate(active):
                action = np.clip(actions[row], envs[i].action_space.low, envs[i].action_space.high) if continuous else int(actions[row])
                obs[i], reward, terminated, truncated, info = envs[i].step(action)
                s = slots[i]
                s["return"] += float(reward)
                s["length"] += 1
                if terminated or truncated:
                    s["terminated"], s["final_info"] = bool(terminated), info
                    results.append(s)
                    slots[i] = None
                    if next_episode < episodes:
                        start(i)
    finally:
        policy.train(was_training)
        for env in envs:
            env.close()
    return sorted(results, key=lambda r: r["episode"])
