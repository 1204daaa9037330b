r"""SpanningTree: grow a spanning tree one edge at a time ("edges as actions", Chapter 4).

Description
-----------
A random connected graph (:func:`gnnrl_lite.envs.rooms.random_connected_graph`) with ``n`` nodes
and edge weights drawn from U(0, 1). The tree starts at one random node; at every step the agent
adds an edge that joins the tree to a node outside it (Prim's rule for which edges are valid). The
episode ends when the tree spans the graph, after exactly ``n - 1`` steps. The reward is minus the
weight of the added edge, so the return is minus the tree's weight, and the optimum is the minimum
spanning tree's weight (:func:`gnnrl_lite.combinatorial.minimum_spanning_tree_weight`). Choosing the
lightest valid edge every time (Prim's algorithm) is optimal, so a policy must read the weights.

Observation Space
-----------------
``gymnasium.spaces.Graph`` with node features ``(n, 1)`` = [in tree] and, for each undirected
edge stored as two directed edges, edge features ``(2m, 2)`` = [weight, mask], the mask (last
column) being 1 on the directed edges ``u -> v`` with ``u`` in the tree and ``v`` outside.

Action Space
------------
``Discrete(max_nodes * (max_nodes - 1))``: the index of a directed edge in ``edge_links``. An
invalid index leaves the tree unchanged, costs a reward of -1 and sets ``info["invalid_action"]``.

Episode End
-----------
Termination when the tree spans the graph; truncation after ``2 * n`` steps.
``info["optimal"]`` (at reset) is the minimum spanning tree's weight.

Constructor arguments
---------------------
=================  =======  ======================================================
``min_nodes``      8        smallest graph
``max_nodes``      15       largest graph
``extra_edges``    1.0      extra edges per node beyond a random spanning tree
=================  =======  ======================================================
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from ..combinatorial import minimum_spanning_tree_weight
from ..graphs import graph_space
from .rooms import random_connected_graph

__all__ = ["SpanningTreeEnv"]


class SpanningTreeEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, min_nodes: int = 8, max_nodes: int = 15, extra_edges: float = 1.0):
        if not 2 <= min_nodes <= max_nodes:
            raise ValueError(f"need 2 <= min_nodes <= max_nodes; got {min_nodes}, {max_nodes}")
        if extra_edges < 0:
            raise ValueError(f"extra_edges must be non-negative; got {extra_edges}")
        self.min_nodes, self.max_nodes, self.extra_edges = min_nodes, max_nodes, extra_edges
        self.observation_space = graph_space(node_dim=1, edge_dim=2, low=0.0, high=1.0)
        self.action_space = spaces.Discrete(max_nodes * (max_nodes - 1))
        self.n, self.edges, self.weights = 0, np.zeros((0, 2), np.int64), np.zeros(0)
        self.in_tree, self._steps = np.zeros(0, bool), 0
        self._links, self._link_weights = np.zeros((0, 2), np.int64), np.zeros(0)

    def _valid(self) -> np.ndarray:
        return self.in_tree[self._links[:, 0]] & ~self.in_tree[self._links[:, 1]]

    def _get_obs(self) -> GraphInstance:
        edge_feats = np.stack([self._link_weights, self._valid()], axis=1).astype(np.float32)
        return GraphInstance(nodes=self.in_tree[:, None].astype(np.float32), edges=edge_feats, edge_links=self._links.copy())

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        rng = self.np_random
        self.n = int(rng.integers(self.min_nodes, self.max_nodes + 1))
        self.edges = random_connected_graph(self.n, self.extra_edges, rng)
        self.weights = rng.uniform(0.0, 1.0, len(self.edges))
        self._links = np.concatenate([self.edges, self.edges[:, ::-1]]).astype(np.int64)  # both directions, fixed per episode
        self._link_weights = np.concatenate([self.weights, self.weights])
        self.in_tree = np.zeros(self.n, dtype=bool)
        self.in_tree[int(rng.integers(self.n))] = True
        self._steps = 0
        return self._get_obs(), {"optimal": minimum_spanning_tree_weight(self.n, self.edges, self.weights), "num_nodes": self.n}

    def step(self, action):
        a = int(action)
        invalid = not (0 <= a < len(self._links) and self._valid()[a])
        if invalid:
            reward = -1.0
        else:
            self.in_tree[self._links[a, 1]] = True
            reward = -float(self._link_weights[a])
        self._steps += 1
        terminated = bool(self.in_tree.all())
        truncated = not terminated and self._steps >= 2 * self.n
        return self._get_obs(), reward, terminated, truncated, {"invalid_action": invalid}
