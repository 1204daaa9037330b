"""Collect: an agent on a grid collects items among obstacles, seeing the entities as a graph.

Description
-----------
A fixed action space with a variable number of entities (Chapter 3, in the spirit of the
multi-robot example of Li et al., 2020). A ``size x size`` grid holds the agent, ``k`` items
(``min_items <= k <= max_items``) and ``num_obstacles`` obstacles, all on distinct cells. The agent
moves one cell per step; moving onto an item collects it; obstacles and the border block moves.

Observation Space
-----------------
``gymnasium.spaces.Graph`` (see :mod:`gnnrl_lite.graphs`). Node 0 is the agent, then the
remaining items, then the obstacles, so the graph shrinks as items are collected. Node features,
shape ``(1 + items + obstacles, 5)``:

=====  ============  =================================================================
col    name          meaning
=====  ============  =================================================================
0      agent         1 for the agent's node
1      item          1 for an item not yet collected
2      obstacle      1 for an obstacle
3      dx            (entity column - agent column) / size, in (-1, 1)
4      dy            (entity row - agent row) / size, in (-1, 1)
=====  ============  =================================================================

Edges join the agent and every entity in both directions (a star); no edge features
(``Discrete(1)`` placeholder).

Action Space
------------
``Discrete(5)``: 0 stay, 1 up (row - 1), 2 down (row + 1), 3 left (column - 1), 4 right (column + 1).

Rewards
-------
``+1`` per item collected, ``step_cost`` (default ``-0.01``) per step.

Starting State
--------------
Agent, items and obstacles on distinct random cells drawn from ``self.np_random``.

Episode End
-----------
Termination when every item is collected; truncation after ``max_steps`` (default ``4 * size``).
``info["collected"]`` and ``info["items"]`` count collected and initial items.

Arguments
---------
=================  =======  ==========================================
``size``           7        grid side
``min_items``      2        fewest items
``max_items``      5        most items
``num_obstacles``  3        obstacles
``step_cost``      -0.01    reward per step
``max_steps``      None     step limit (None: 4 * size)
=================  =======  ==========================================
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from ..graphs import graph_space

__all__ = ["CollectEnv", "MOVES"]

MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])
"""(row, column) change of each action: stay, up, down, left, right."""


class CollectEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, size: int = 7, min_items: int = 2, max_items: int = 5, num_obstacles: int = 3,
                 step_cost: float = -0.01, max_steps: int | None = None):
        if size < 2:
            raise ValueError(f"size must be at least 2; got {size}")
        if not 1 <= min_items <= max_items:
            raise ValueError(f"need 1 <= min_items <= max_items; got {min_items}, {max_items}")
        if num_obstacles < 0 or 1 + max_items + num_obstacles > size * size:
            raise ValueError(f"num_obstacles={num_obstacles} with max_items={max_items} does not fit a {size}x{size} grid")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        self.size, self.min_items, self.max_items, self.num_obstacles = size, min_items, max_items, num_obstacles
        self.step_cost, self.max_steps = step_cost, max_steps if max_steps is not None else 4 * size
        self.observation_space = graph_space(node_dim=5, low=-1.0, high=1.0)
        self.action_space = spaces.Discrete(5)
        self._agent = self._items = self._obstacles = None
        self._steps = self._num_items = 0

    def _get_obs(self) -> GraphInstance:
        entities = [(self._items, 1), (self._obstacles, 2)]
        rows = [np.array([1, 0, 0, 0, 0], np.float32)]
        for cells, col in entities:
            for cell in cells:
                f = np.zeros(5, np.float32)
                f[col] = 1.0
                f[3] = (cell[1] - self._agent[1]) / self.size
                f[4] = (cell[0] - self._agent[0]) / self.size
                rows.append(f)
        nodes = np.stack(rows)
        others = np.arange(1, len(nodes))
        links = np.concatenate([np.stack([others, np.zeros_like(others)], 1), np.stack([np.zeros_like(others), others], 1)])
        return GraphInstance(nodes=nodes, edges=np.zeros(len(links), np.int64), edge_links=links.astype(np.int64).reshape(-1, 2))

    def _info(self) -> dict:
        return {"collected": self._num_items - len(self._items), "items": self._num_items}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._num_items = int(self.np_random.integers(self.min_items, self.max_items + 1))
        cells = self.np_random.choice(self.size * self.size, size=1 + self._num_items + self.num_obstacles, replace=False)
        coords = [np.array(divmod(int(c), self.size)) for c in cells]
        self._agent = coords[0]
        self._items = coords[1:1 + self._num_items]
        self._obstacles = coords[1 + self._num_items:]
        self._steps = 0
        return self._get_obs(), self._info()

    def step(self, action):
        target = self._agent + MOVES[int(action)]
        inside = bool(((target >= 0) & (target < self.size)).all())
        blocked = any((target == o).all() for o in self._obstacles)
        if inside and not blocked:
            self._agent = target
        reward = self.step_cost
        hit = [i for i, cell in enumerate(self._items) if (cell == self._agent).all()]
        if hit:
            self._items.pop(hit[0])
            reward += 1.0
        self._steps += 1
        terminated = len(self._items) == 0
        truncated = not terminated and self._steps >= self.max_steps
        return self._get_obs(), float(reward), terminated, truncated, self._info()
