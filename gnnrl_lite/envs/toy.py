"""PickMaxNode: a one-step graph environment for testing node-selecting GNN policies.

Description
-----------
A random tree with ``n`` nodes (``min_nodes <= n <= max_nodes``). Every node carries one value
drawn from U(0, 1); some nodes are *unavailable*. The agent picks one available node and receives
``value / max_available_value`` (1 for the best node). The episode ends after one step. The
optimal policy has return 1; a uniformly random one less (about 0.64 with the defaults).

Observation Space
-----------------
``gymnasium.spaces.Graph`` (see :mod:`gnnrl_lite.graphs`): node features ``(n, 2)`` =
``[value, mask]`` with the 0/1 action mask as the last column; edges in both directions, no edge
features (``Discrete(1)`` placeholder).

Action Space
------------
``Discrete(max_nodes)``; only indices whose mask is 1 are valid. An invalid index (masked, or
beyond the graph) ends the episode with reward 0 and ``info["invalid_action"] = True``.

Constructor arguments
---------------------
==============  =====  ==========================================
``min_nodes``   3      smallest graph
``max_nodes``   10     largest graph
``p_masked``    0.3    probability that a node is unavailable
==============  =====  ==========================================
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from ..graphs import graph_space, with_mask_column


class PickMaxNodeEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, min_nodes: int = 3, max_nodes: int = 10, p_masked: float = 0.3):
        if not 1 <= min_nodes <= max_nodes:
            raise ValueError(f"need 1 <= min_nodes <= max_nodes; got {min_nodes}, {max_nodes}")
        if not 0.0 <= p_masked < 1.0:
            raise ValueError(f"p_masked must lie in [0, 1); got {p_masked}")
        self.min_nodes, self.max_nodes, self.p_masked = min_nodes, max_nodes, p_masked
        self.observation_space = graph_space(node_dim=2, low=0.0, high=1.0)
        self.action_space = spaces.Discrete(max_nodes)
        self._values = self._mask = self._links = None

    def _get_obs(self) -> GraphInstance:
        nodes = with_mask_column(self._values[:, None], self._mask)
        return GraphInstance(nodes=nodes, edges=np.zeros(len(self._links), dtype=np.int64), edge_links=self._links.copy())

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        n = int(self.np_random.integers(self.min_nodes, self.max_nodes + 1))
        self._values = self.np_random.uniform(0, 1, n).astype(np.float32)
        self._mask = self.np_random.uniform(0, 1, n) >= self.p_masked
        if not self._mask.any():
            self._mask[self.np_random.integers(0, n)] = True
        tree = [(int(self.np_random.integers(0, v)), v) for v in range(1, n)]  # a random tree: connected
        self._links = np.array(tree + [(v, u) for u, v in tree], dtype=np.int64).reshape(-1, 2)
        return self._get_obs(), {}

    def step(self, action):
        a = int(action)
        if not (0 <= a < len(self._values)) or not self._mask[a]:
            return self._get_obs(), 0.0, True, False, {"invalid_action": True}
        best = self._values[self._mask].max()
        reward = 1.0 if self._values[a] == best else float(self._values[a] / best)
        return self._get_obs(), reward, True, False, {"invalid_action": False}
