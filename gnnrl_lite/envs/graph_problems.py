r"""Node-selection problems on random graphs: "nodes as actions" (Chapter 4).

Both environments build a set of nodes one node per step on a random Erdős–Rényi or
Barabási–Albert graph (:mod:`gnnrl_lite.combinatorial`), with the valid nodes given by a mask column.

- :class:`VertexCoverEnv`: minimum vertex cover (Khalil et al., 2017). Any node not yet chosen is
  valid; the episode ends when every edge is covered; reward :math:`-1` per node, so the return is
  minus the size of the cover.
- :class:`PublicGoodsEnv`: the best-shot public goods game (Darvariu et al., 2021). A node is valid
  if neither it nor a neighbour has invested; the episode ends when the set of investors :math:`S`
  is a maximal independent set (a pure equilibrium); reward :math:`-c` per investor, so the social
  welfare is :math:`n + \text{return} = n - c|S|`.

Observation Space
-----------------
``gymnasium.spaces.Graph`` with node features ``(n, 3)`` and edges in both directions, no edge
features (``Discrete(1)`` placeholder):

=====  =================  ===========================================================
col    VertexCoverEnv     PublicGoodsEnv
=====  =================  ===========================================================
0      1 if chosen        1 if investing
1      1 (a constant)     1 if covered (investing or next to an investor)
2      mask: not chosen   mask: not covered
=====  =================  ===========================================================

``VertexCoverEnv`` shows the *residual* graph: only the edges not yet covered, so a node's degree
in the observation is the number of edges it would cover. ``PublicGoodsEnv`` always shows all edges.

Action Space
------------
``Discrete(max_nodes)``: a node index. An invalid index (masked or beyond the graph) leaves the
state unchanged, costs the step's reward and sets ``info["invalid_action"]``.

Starting State
--------------
A new graph every episode, drawn from ``self.np_random`` (vertex cover graphs are redrawn until
they have an edge). ``reset(options={"n": n, "edges": e})`` plays a given graph instead (e.g. a
fixed test set shared by all methods).

Episode End
-----------
Termination as above; no time limit is needed (every valid step makes progress), but
``n`` steps truncate anyway. ``info["set_size"]`` counts the chosen nodes and ``env.solution()``
returns them.

Constructor arguments
---------------------
=================  =======  ======================================================
``min_nodes``      10       smallest graph
``max_nodes``      20       largest graph (and the action space's size)
``graph``          "er"     ``"er"`` (Erdős–Rényi) or ``"ba"`` (Barabási–Albert)
``degree``         3.0      mean degree of ``"er"`` (edge probability min(1, degree / (n - 1)))
``m``              4        edges per new node of ``"ba"``
``cost``           0.5      investment cost c (PublicGoodsEnv only)
=================  =======  ======================================================
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from ..checks import check_choice
from ..combinatorial import _check_graph, barabasi_albert, erdos_renyi
from ..graphs import graph_space

__all__ = ["VertexCoverEnv", "PublicGoodsEnv"]


class _NodeSetEnv(gym.Env):
    """Shared machinery: sample or take a graph, keep a chosen set, step by adding a valid node."""

    metadata = {"render_modes": []}

    def __init__(self, min_nodes: int = 10, max_nodes: int = 20, graph: str = "er", degree: float = 3.0, m: int = 4):
        if not 2 <= min_nodes <= max_nodes:
            raise ValueError(f"need 2 <= min_nodes <= max_nodes; got {min_nodes}, {max_nodes}")
        self.graph = check_choice(graph, ("er", "ba"), "graph")
        if graph == "er" and not degree > 0.0:
            raise ValueError(f"degree must be positive; got {degree}")
        if graph == "ba" and not 1 <= m < min_nodes:
            raise ValueError(f"need 1 <= m < min_nodes for 'ba'; got m={m}")
        self.min_nodes, self.max_nodes, self.degree, self.m = min_nodes, max_nodes, degree, m
        self.observation_space = graph_space(node_dim=3, low=0.0, high=1.0)
        self.action_space = spaces.Discrete(max_nodes)
        self.n, self.edges, self.chosen, self._steps = 0, np.zeros((0, 2), np.int64), np.zeros(0, bool), 0

    def _sample(self) -> tuple[int, np.ndarray]:
        n = int(self.np_random.integers(self.min_nodes, self.max_nodes + 1))
        make = (lambda: erdos_renyi(n, min(1.0, self.degree / (n - 1)), self.np_random)) if self.graph == "er" else (lambda: barabasi_albert(n, self.m, self.np_random))
        return n, make()

    def _valid(self) -> np.ndarray:
        raise NotImplementedError

    def _done(self) -> bool:
        raise NotImplementedError

    def _get_obs(self) -> GraphInstance:
        raise NotImplementedError

    def _graph_obs(self, nodes: np.ndarray, edges: np.ndarray) -> GraphInstance:
        links = np.concatenate([edges, edges[:, ::-1]]).astype(np.int64).reshape(-1, 2)
        return GraphInstance(nodes=nodes.astype(np.float32), edges=np.zeros(len(links), np.int64), edge_links=links)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options and "edges" in options:
            self.n = int(options["n"])
            if self.n > self.max_nodes:
                raise ValueError(f"the given graph has {self.n} nodes but max_nodes={self.max_nodes}")
            self.edges = _check_graph(self.n, options["edges"])
        else:
            self.n, self.edges = self._sample()
        self.chosen = np.zeros(self.n, dtype=bool)
        self._steps = 0
        return self._get_obs(), {"num_nodes": self.n, "num_edges": len(self.edges)}

    def _step_reward(self) -> float:
        raise NotImplementedError

    def solution(self) -> np.ndarray:
        """The chosen nodes so far (sorted indices)."""
        return np.flatnonzero(self.chosen)

    def step(self, action):
        a = int(action)
        invalid = not (0 <= a < self.n and self._valid()[a])
        if not invalid:
            self.chosen[a] = True
        self._steps += 1
        terminated = self._done()
        truncated = not terminated and self._steps >= self.n
        info = {"invalid_action": invalid, "set_size": int(self.chosen.sum())}
        return self._get_obs(), self._step_reward(), terminated, truncated, info


class VertexCoverEnv(_NodeSetEnv):
    """Minimum vertex cover, one node per step (see the module docstring)."""

    def _uncovered(self) -> np.ndarray:
        return self.edges[~(self.chosen[self.edges[:, 0]] | self.chosen[self.edges[:, 1]])]

    def _sample(self):
        while True:
            n, edges = super()._sample()
            if len(edges):
                return n, edges

    def _valid(self) -> np.ndarray:
        return ~self.chosen

    def _done(self) -> bool:
        return len(self._uncovered()) == 0

    def _step_reward(self) -> float:
        return -1.0

    def _get_obs(self) -> GraphInstance:
        nodes = np.stack([self.chosen, np.ones(self.n), self._valid()], axis=1)
        return self._graph_obs(nodes, self._uncovered())


class PublicGoodsEnv(_NodeSetEnv):
    """The best-shot public goods game, one investor per step until a maximal independent set (see the module docstring)."""

    def __init__(self, min_nodes: int = 10, max_nodes: int = 20, graph: str = "er", degree: float = 3.0, m: int = 4, cost: float = 0.5):
        super().__init__(min_nodes, max_nodes, graph, degree, m)
        if not 0.0 < cost < 1.0:
            raise ValueError(f"cost must lie in (0, 1); got {cost}")
        self.cost = cost

    def _covered(self) -> np.ndarray:
        covered = self.chosen.copy()
        covered[self.edges[self.chosen[self.edges[:, 0]], 1]] = True
        covered[self.edges[self.chosen[self.edges[:, 1]], 0]] = True
        return covered

    def _valid(self) -> np.ndarray:
        return ~self._covered()

    def _done(self) -> bool:
        return bool(self._covered().all())

    def _step_reward(self) -> float:
        return -self.cost

    def welfare(self) -> float:
        """Social welfare :math:`n - c|S|` of the current investors."""
        return self.n - self.cost * float(self.chosen.sum())

    def _get_obs(self) -> GraphInstance:
        covered = self._covered()
        nodes = np.stack([self.chosen, covered, ~covered], axis=1)
        return self._graph_obs(nodes, self.edges)
