"""Rooms: navigate a random graph of rooms and doors, choosing a neighbouring room at every step.

Description
-----------
"Neighbours as actions" (Chapter 3). A random connected graph of ``n`` rooms (nodes) joined by
doors (undirected edges): a uniformly random spanning tree plus ``extra_doors * n`` random extra
doors, so there are cycles and several routes. The agent starts in one room and must reach a goal
room; at every step it moves through a door to a neighbouring room. The set of valid actions is
the current room's neighbours, so it changes every step and has no fixed size.

Observation Space
-----------------
``gymnasium.spaces.Graph`` (see :mod:`gnnrl_lite.graphs`), node features of shape ``(n, 3)``:

=====  ==========  ===============================================================
col    name        meaning
=====  ==========  ===============================================================
0      agent       1 in the agent's room, else 0
1      goal        1 in the goal room, else 0
2      mask        1 for the rooms the agent can move to now (its neighbours)
=====  ==========  ===============================================================

Doors are stored as two directed edges; there are no edge features (``Discrete(1)`` placeholder).

Action Space
------------
``Discrete(max_rooms)``: the index of the next room. Only neighbours of the current room are
valid; any other index leaves the agent where it is and still costs the step (so random actions,
e.g. from Gymnasium's env checker, are safe). ``info["invalid_action"]`` flags them.

Rewards
-------
``-1`` per step; ``goal_bonus`` (default ``n``, the number of rooms) on reaching the goal.

Starting State
--------------
A new graph, agent room and goal room (distinct) every episode, all drawn from ``self.np_random``.
``info["shortest_path"]`` is the BFS distance from the agent to the goal, the optimal episode length.
``reset(options={"edges": e, "agent": a, "goal": g})`` plays a given connected graph instead
(undirected edges ``e`` of shape ``(m, 2)`` over rooms ``0..n-1`` with ``n <= max_rooms``), e.g. a
hand-made test case.

Episode End
-----------
Termination on reaching the goal; truncation after ``max_steps`` (default ``4 * n``) steps.

Constructor arguments
---------------------
===============  =======  =====================================================
``min_rooms``    8        smallest graph
``max_rooms``    15       largest graph
``extra_doors``  0.3      extra doors per room beyond the spanning tree
``goal_bonus``   None     reward on reaching the goal (None: the number of rooms)
``max_steps``    None     step limit (None: 4 times the number of rooms)
===============  =======  =====================================================
"""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from ..graphs import graph_space

__all__ = ["RoomsEnv", "bfs_distances", "random_connected_graph"]


def random_connected_graph(n: int, extra_doors: float, rng: np.random.Generator) -> np.ndarray:
    """Undirected edges ``(m, 2)`` of a random connected simple graph on ``n`` nodes.

    A random spanning tree (each node ``v >= 1`` joins a uniformly random earlier node, after a random
    relabelling) plus ``round(extra_doors * n)`` distinct extra edges that are not self-loops.
    """
    if n < 2:
        raise ValueError(f"need at least 2 rooms; got {n}")
    order = rng.permutation(n)
    edges = {tuple(sorted((int(order[v]), int(order[rng.integers(0, v)])))) for v in range(1, n)}
    target = len(edges) + int(round(extra_doors * n))
    max_edges = n * (n - 1) // 2
    while len(edges) < min(target, max_edges):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        if u != v:
            edges.add((min(u, v), max(u, v)))
    return np.array(sorted(edges), dtype=np.int64)


def bfs_distances(n: int, edges: np.ndarray, source: int) -> np.ndarray:
    """Hop distances ``(n,)`` from ``source`` over undirected ``edges`` (``-1`` if unreachable)."""
    adj = [[] for _ in range(n)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    dist = np.full(n, -1, dtype=np.int64)
    dist[source] = 0
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for w in adj[u]:
            if dist[w] < 0:
                dist[w] = dist[u] + 1
                queue.append(w)
    return dist


class RoomsEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, min_rooms: int = 8, max_rooms: int = 15, extra_doors: float = 0.3,
                 goal_bonus: float | None = None, max_steps: int | None = None):
        if not 2 <= min_rooms <= max_rooms:
            raise ValueError(f"need 2 <= min_rooms <= max_rooms; got {min_rooms}, {max_rooms}")
        if extra_doors < 0:
            raise ValueError(f"extra_doors must be non-negative; got {extra_doors}")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        self.min_rooms, self.max_rooms, self.extra_doors = min_rooms, max_rooms, extra_doors
        self.goal_bonus, self.max_steps = goal_bonus, max_steps
        self.observation_space = graph_space(node_dim=3, low=0.0, high=1.0)
        self.action_space = spaces.Discrete(max_rooms)
        self._n = self._edges = self._links = self._adj = None
        self._agent = self._goal = self._steps = self._limit = None

    def _get_obs(self) -> GraphInstance:
        nodes = np.zeros((self._n, 3), dtype=np.float32)
        nodes[self._agent, 0] = 1.0
        nodes[self._goal, 1] = 1.0
        nodes[self._adj[self._agent], 2] = 1.0
        return GraphInstance(nodes=nodes, edges=np.zeros(len(self._links), dtype=np.int64), edge_links=self._links.copy())

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        rng = self.np_random
        if options and "edges" in options:
            self._n, self._edges, agent, goal = self._given_graph(options)
        else:
            self._n = int(rng.integers(self.min_rooms, self.max_rooms + 1))
            self._edges = random_connected_graph(self._n, self.extra_doors, rng)
            agent, goal = (int(x) for x in rng.choice(self._n, size=2, replace=False))
        self._links = np.concatenate([self._edges, self._edges[:, ::-1]])
        self._adj = [[] for _ in range(self._n)]
        for u, v in self._edges:
            self._adj[u].append(int(v))
            self._adj[v].append(int(u))
        self._agent, self._goal = agent, goal
        self._steps = 0
        self._limit = self.max_steps if self.max_steps is not None else 4 * self._n
        shortest = int(bfs_distances(self._n, self._edges, self._agent)[self._goal])
        return self._get_obs(), {"shortest_path": shortest, "num_rooms": self._n}

    def _given_graph(self, options: dict):
        edges = np.asarray(options["edges"], dtype=np.int64)
        if edges.ndim != 2 or edges.shape[1] != 2 or len(edges) == 0 or edges.min() < 0:
            raise ValueError(f"options['edges'] must be a non-empty (m, 2) array of room indices; got shape {edges.shape}")
        n = int(edges.max()) + 1
        if n > self.max_rooms:
            raise ValueError(f"the given graph has {n} rooms but the action space allows max_rooms={self.max_rooms}")
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        if (edges[:, 0] == edges[:, 1]).any():
            raise ValueError("options['edges'] must not contain self-loops")
        agent, goal = int(options.get("agent", -1)), int(options.get("goal", -1))
        if not (0 <= agent < n and 0 <= goal < n and agent != goal):
            raise ValueError(f"options need distinct 'agent' and 'goal' rooms in [0, {n}); got {agent}, {goal}")
        if (bfs_distances(n, edges, agent) < 0).any():
            raise ValueError("the given graph must be connected")
        return n, edges, agent, goal

    def step(self, action):
        a = int(action)
        invalid = a not in self._adj[self._agent]
        if not invalid:
            self._agent = a
        self._steps += 1
        reached = self._agent == self._goal
        reward = -1.0 + (float(self.goal_bonus if self.goal_bonus is not None else self._n) if reached else 0.0)
        truncated = (not reached) and self._steps >= self._limit
        return self._get_obs(), reward, reached, truncated, {"invalid_action": invalid}
