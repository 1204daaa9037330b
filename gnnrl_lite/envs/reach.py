r"""Reach: an agent on a grid must reach its goal among landmarks, seeing every entity as a graph.

Description
-----------
A fixed action space over a variable number of entities (Chapter 3), in the spirit of the
multi-robot example of Li et al. (2020) and of the particle worlds of multi-agent RL: the agent sees
the entities around it as a graph and picks one of five moves. A ``size x size`` grid holds the
agent, one goal and ``k`` landmarks (``min_landmarks <= k <= max_landmarks``), all on distinct
cells. Landmarks are distractors (say, other agents' goals): they do nothing, but they look like
the goal except for one flag, so the policy must find its goal among them.

Observation Space
-----------------
``gymnasium.spaces.Graph`` (see :mod:`gnnrl_lite.graphs`). Node 0 is the agent; the goal and the
landmarks follow in a random order drawn at reset (so the goal's position in the list says nothing).
Node features, shape ``(2 + k, 5)``:

=====  ============  =================================================================
col    name          meaning
=====  ============  =================================================================
0      agent         1 for the agent's node
1      goal          1 for the goal
2      landmark      1 for a landmark
3      dx            (entity column - agent column) / size, in (-1, 1)
4      dy            (entity row - agent row) / size, in (-1, 1)
=====  ============  =================================================================

Edges join the agent and every entity in both directions (a star); no edge features
(``Discrete(1)`` placeholder).

Action Space
------------
``Discrete(5)``: 0 stay, 1 up (row - 1), 2 down (row + 1), 3 left (column - 1), 4 right (column + 1).
Moves off the grid leave the agent in place.

Rewards
-------
``+1`` on reaching the goal, ``step_cost`` (default ``-0.01``) per step, plus an optional
potential-based shaping term (Ng et al., 1999), which leaves the optimal policies unchanged:

.. math::

    F(s, s') = \beta\,\big(\gamma\,\Phi(s') - \Phi(s)\big), \qquad
    \Phi(s) = -\frac{\lVert p_\text{goal} - p_\text{agent} \rVert_1}{\text{size}}

with :math:`\beta` = ``shaping`` (default 0: off), :math:`\gamma` = ``gamma`` and
:math:`\Phi = 0` at the goal.

Starting State
--------------
Agent, goal and landmarks on distinct random cells drawn from ``self.np_random``.

Episode End
-----------
Termination on reaching the goal (``info["success"]``); truncation after ``max_steps`` steps
(default ``4 * size``). ``info["shortest_path"]`` (at reset) is the Manhattan distance to the goal,
the optimal episode length.

Constructor arguments
---------------------
=================  =======  ==========================================
``size``           7        grid side
``min_landmarks``  2        fewest landmarks
``max_landmarks``  5        most landmarks
``step_cost``      -0.01    reward per step
``max_steps``      None     step limit (None: 4 * size)
``shaping``        0.0      shaping weight beta (above)
``gamma``          0.99     discount in the shaping term
=================  =======  ==========================================
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from ..graphs import graph_space

__all__ = ["ReachEnv", "MOVES"]

MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])
"""(row, column) change of each action: stay, up, down, left, right."""


class ReachEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, size: int = 7, min_landmarks: int = 2, max_landmarks: int = 5, step_cost: float = -0.01,
                 max_steps: int | None = None, shaping: float = 0.0, gamma: float = 0.99):
        if size < 2:
            raise ValueError(f"size must be at least 2; got {size}")
        if not 0 <= min_landmarks <= max_landmarks:
            raise ValueError(f"need 0 <= min_landmarks <= max_landmarks; got {min_landmarks}, {max_landmarks}")
        if 2 + max_landmarks > size * size:
            raise ValueError(f"max_landmarks={max_landmarks} does not fit a {size}x{size} grid with the agent and the goal")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        if shaping < 0 or not 0.0 <= gamma <= 1.0:
            raise ValueError(f"need shaping >= 0 and 0 <= gamma <= 1; got {shaping}, {gamma}")
        self.size, self.min_landmarks, self.max_landmarks = size, min_landmarks, max_landmarks
        self.step_cost, self.max_steps, self.shaping, self.gamma = step_cost, max_steps, shaping, gamma
        self.observation_space = graph_space(node_dim=5, low=-1.0, high=1.0)
        self.action_space = spaces.Discrete(5)
        self._agent = self._goal = self._entities = None
        self._steps = 0

    def _potential(self) -> float:
        return -float(np.abs(self._goal - self._agent).sum()) / self.size

    def _get_obs(self) -> GraphInstance:
        rows = [np.array([1, 0, 0, 0, 0], np.float32)]
        for cell, is_goal in self._entities:
            f = np.zeros(5, np.float32)
            f[1 if is_goal else 2] = 1.0
            f[3] = (cell[1] - self._agent[1]) / self.size
            f[4] = (cell[0] - self._agent[0]) / self.size
            rows.append(f)
        nodes = np.stack(rows)
        others = np.arange(1, len(nodes))
        links = np.concatenate([np.stack([others, np.zeros_like(others)], 1), np.stack([np.zeros_like(others), others], 1)])
        return GraphInstance(nodes=nodes, edges=np.zeros(len(links), np.int64), edge_links=links.astype(np.int64))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        k = int(self.np_random.integers(self.min_landmarks, self.max_landmarks + 1))
        cells = self.np_random.choice(self.size * self.size, size=2 + k, replace=False)
        coords = [np.array(divmod(int(c), self.size)) for c in cells]
        self._agent, self._goal = coords[0], coords[1]
        entities = [(coords[1], True)] + [(c, False) for c in coords[2:]]
        self._entities = [entities[i] for i in self.np_random.permutation(len(entities))]
        self._steps = 0
        return self._get_obs(), {"shortest_path": int(np.abs(self._goal - self._agent).sum()), "landmarks": k}

    def step(self, action):
        before = self._potential()
        target = self._agent + MOVES[int(action)]
        if ((target >= 0) & (target < self.size)).all():
            self._agent = target
        reached = bool((self._agent == self._goal).all())
        reward = self.step_cost + (1.0 if reached else 0.0)
        if self.shaping:
            reward += self.shaping * (self.gamma * (0.0 if reached else self._potential()) - before)
        self._steps += 1
        limit = self.max_steps if self.max_steps is not None else 4 * self.size
        truncated = not reached and self._steps >= limit
        return self._get_obs(), float(reward), reached, truncated, {"success": reached}
