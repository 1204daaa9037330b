"""Environments used in the book, all following the Gymnasium API, plus vector-env construction.

- :class:`gnnrl_lite.envs.toy.PickMaxNodeEnv`: pick the node with the largest value (a graph
  observation with a node action mask; the smoke test for GNN policies with PPO).
- :class:`gnnrl_lite.envs.reach.ReachEnv`: reach a goal on a grid among landmarks, seeing the
  entities as a graph; a fixed action set (Chapter 3; policy: :class:`gnnrl_lite.policies.GraphActorCritic`).
- :mod:`gnnrl_lite.envs.graph_problems`: :class:`VertexCoverEnv` and :class:`PublicGoodsEnv`, sets of
  nodes built one node per step on random graphs ("nodes as actions", Chapter 4).
- :class:`gnnrl_lite.envs.spanning_tree.SpanningTreeEnv`: grow a spanning tree one edge at a time
  ("edges as actions", Chapter 4).
- :mod:`gnnrl_lite.envs.wrappers`: fixed-size views of these envs for MLP baselines.
- :class:`gnnrl_lite.envs.rooms.RoomsEnv`: navigate a random graph of rooms by choosing a
  neighbouring room at every step ("neighbours as actions", Chapter 3; policy:
  :class:`gnnrl_lite.policies.NeighbourActorCritic`).
- :class:`gnnrl_lite.envs.centipede.CentipedeEnv`: NerveNet's Centipede-n walker in MuJoCo with its
  morphology graph (:func:`~gnnrl_lite.envs.centipede.morphology_graph`); ids
  ``gnnrl_lite/Centipede-{n}-v0``. Only building the env needs the optional ``mujoco``, which is
  imported then, not when this package is imported.
- :class:`gnnrl_lite.envs.prey.PreyGridEnv`: catch a prey on a torus seen from the agent, an MDP
  with the C4 rotation symmetry (:func:`~gnnrl_lite.envs.prey.rotate_view`,
  :func:`~gnnrl_lite.envs.prey.rotate_action`; the symmetry chapter); id ``gnnrl_lite/PreyGrid-v0``.
- :class:`gnnrl_lite.envs.spread.SpreadVecEnv`: MPE's simple spread (``mpe2.simple_spread_v3``),
  ``num_envs`` copies stepped together in NumPy with mpe2's exact dynamics, observations and
  rewards, and the agents' and landmarks' positions for graph policies (E2GN2). A multi-agent
  vector env of its own, not a Gymnasium env: ``reset(seed) -> obs``, ``step(actions)`` with
  same-step autoreset.
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym

from .centipede import CentipedeEnv, make_centipede  # imports mujoco only when an env is built
from .graph_problems import PublicGoodsEnv, VertexCoverEnv
from .prey import PreyGridEnv
from .reach import ReachEnv
from .rooms import RoomsEnv
from .spread import SpreadVecEnv
from .spanning_tree import SpanningTreeEnv
from .toy import PickMaxNodeEnv

__all__ = ["make_vec_env", "make_centipede", "CentipedeEnv", "PickMaxNodeEnv", "PreyGridEnv", "PublicGoodsEnv", "ReachEnv", "RoomsEnv", "SpanningTreeEnv", "SpreadVecEnv", "VertexCoverEnv"]


def make_vec_env(env_fn: Callable[[], gym.Env] | str, num_envs: int, **kwargs) -> gym.vector.SyncVectorEnv:
    """Make ``num_envs`` copies of an env in a ``SyncVectorEnv`` with same-step autoreset.

    ``env_fn`` is a zero-argument callable returning an env, or a registered id (then ``kwargs``
    go to :func:`gymnasium.make`). Same-step autoreset returns the first observation of the next
    episode right away and puts the last one in ``info["final_obs"]``, which PPO needs to
    bootstrap values at time limits.
    """
    if isinstance(env_fn, str):
        env_id = env_fn
        env_fn = lambda: gym.make(env_id, **kwargs)  # noqa: E731
    elif kwargs:
        raise TypeError("keyword arguments are only accepted with an env id string")
    if not callable(env_fn):
        raise TypeError(f"env_fn must be a callable or an env id; got {type(env_fn).__name__}")
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1; got {num_envs}")
    return gym.vector.SyncVectorEnv([env_fn for _ in range(num_envs)], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
