r"""Wrappers that turn graph observations into the fixed-size inputs an MLP baseline needs.

Both exist to show what a GNN buys (Chapter 3): an MLP needs a maximum size fixed in advance.

- :class:`PadEntities` flattens the entity nodes of a graph into a vector of ``max_entities``
  slots: entities beyond the last slot are dropped, missing ones are zeros.
- :class:`PaddedNeighbours` gives a rooms graph a fixed action space of ``max_degree`` slots (slot
  :math:`k` is the :math:`k`-th neighbour in index order) and a flat observation of a padded
  adjacency matrix with agent and goal flags; neighbours beyond the last slot cannot be chosen.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["PadEntities", "PaddedNeighbours"]


class PadEntities(gym.ObservationWrapper):
    r"""Flatten a graph observation's entity nodes into ``max_entities`` fixed slots.

    .. math::

        o = [x_{u_1} \| x_{u_2} \| \dots \| x_{u_K}] \in \mathbb{R}^{K D}

    where :math:`u_1, u_2, \dots` are the nodes not flagged in ``agent_col``, in the environment's
    order, :math:`K` = ``max_entities`` and :math:`D` the node feature size. Nodes past slot
    :math:`K` are truncated; empty slots are zeros. Shape of the observation: ``(K * D,)``.

    Parameters
    ----------
    env : gymnasium.Env
        An env with ``gymnasium.spaces.Graph`` observations (e.g. :class:`gnnrl_lite.envs.ReachEnv`).
    max_entities : int
        Number of slots :math:`K`.
    agent_col : int
        Feature column flagging the agent's own node, which is left out (``None``: keep all nodes).
    """

    def __init__(self, env: gym.Env, max_entities: int, agent_col: int | None = 0):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Graph):
            raise TypeError(f"PadEntities needs a Graph observation space; got {type(space).__name__}")
        if isinstance(max_entities, bool) or not isinstance(max_entities, (int, np.integer)) or max_entities < 1:
            raise ValueError(f"max_entities must be a positive integer; got {max_entities!r}")
        dim = int(space.node_space.shape[0])
        if agent_col is not None and not 0 <= agent_col < dim:
            raise ValueError(f"agent_col must index a node feature in [0, {dim}); got {agent_col}")
        self.max_entities, self.agent_col, self.node_dim = int(max_entities), agent_col, dim
        low = np.minimum(np.tile(space.node_space.low, max_entities), 0.0).astype(np.float32)
        high = np.maximum(np.tile(space.node_space.high, max_entities), 0.0).astype(np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)

    def observation(self, observation) -> np.ndarray:
        nodes = np.asarray(observation.nodes, dtype=np.float32)  # (n, D)
        if self.agent_col is not None:
            nodes = nodes[nodes[:, self.agent_col] < 0.5]
        out = np.zeros((self.max_entities, self.node_dim), dtype=np.float32)
        kept = nodes[: self.max_entities]
        out[: len(kept)] = kept
        return out.reshape(-1)


class PaddedNeighbours(gym.Wrapper):
    r"""A fixed-size view of :class:`gnnrl_lite.envs.RoomsEnv` for an MLP: padded rooms, padded actions.

    Observation, shape ``(R * R + 2 R,)`` with :math:`R` = ``max_rooms``: the adjacency matrix of
    the rooms graph padded to :math:`R \times R`, then the agent's and the goal's one-hot rows.
    Action :math:`k \in \{0, \dots, K-1\}` with :math:`K` = ``max_degree`` moves to the
    :math:`k`-th neighbour of the current room (neighbours sorted by index); a slot with no
    neighbour leaves the agent where it is (an invalid action of the base env). A room with more
    than :math:`K` doors has neighbours no action can reach.

    Parameters
    ----------
    env : RoomsEnv
        The base environment.
    max_rooms : int
        :math:`R`; a graph with more rooms raises ``ValueError`` (the MLP cannot read it).
    max_degree : int
        :math:`K`, e.g. the largest degree seen in the training graphs.
    """

    def __init__(self, env: gym.Env, max_rooms: int, max_degree: int):
        super().__init__(env)
        for name, value in (("max_rooms", max_rooms), ("max_degree", max_degree)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.max_rooms, self.max_degree = int(max_rooms), int(max_degree)
        self.observation_space = spaces.Box(0.0, 1.0, (max_rooms * max_rooms + 2 * max_rooms,), dtype=np.float32)
        self.action_space = spaces.Discrete(max_degree)
        self._obs = None

    def _flat(self, obs) -> np.ndarray:
        n, R = len(obs.nodes), self.max_rooms
        if n > R:
            raise ValueError(f"the graph has {n} rooms but the padded observation holds max_rooms={R}")
        adj = np.zeros((R, R), dtype=np.float32)
        adj[obs.edge_links[:, 0], obs.edge_links[:, 1]] = 1.0
        flags = np.zeros((2, R), dtype=np.float32)
        flags[:, :n] = np.asarray(obs.nodes[:, :2], dtype=np.float32).T  # agent row, goal row
        return np.concatenate([adj.reshape(-1), flags.reshape(-1)])

    def neighbours(self) -> np.ndarray:
        """The current room's neighbours in slot order (all of them, also those past ``max_degree``)."""
        return np.flatnonzero(np.asarray(self._obs.nodes)[:, 2] > 0.5)

    def reset(self, **kwargs):
        self._obs, info = self.env.reset(**kwargs)
        return self._flat(self._obs), info

    def step(self, action):
        k = int(action)
        if not 0 <= k < self.max_degree:
            raise ValueError(f"action must be a slot in [0, {self.max_degree}); got {action}")
        nbrs = self.neighbours()
        room = int(nbrs[k]) if k < len(nbrs) else -1  # -1: no such door, the base env keeps the agent in place
        self._obs, reward, terminated, truncated, info = self.env.step(room)
        return self._flat(self._obs), reward, terminated, truncated, info
