r"""Spread: MPE's cooperative navigation (``simple_spread_v3``), vectorised over many copies in NumPy.

Description
-----------
``N`` agents (discs of radius 0.15) move in the plane and must cover ``L`` landmarks together
while avoiding one another (Lowe et al., 2017): the multi-agent benchmark on which E2GN2
(McClellan et al., 2024) is trained. :class:`SpreadVecEnv` steps ``num_envs`` independent copies
at once with array operations and reproduces ``mpe2.simple_spread_v3`` (mpe2 1.1.1) exactly:
same dynamics, observations and rewards (``tests/test_spread.py`` drives both with the same states
and actions for whole episodes), and, with ``num_envs=1``, even the same starting states for the
same seed. It is about two orders of magnitude faster than stepping mpe2's ``parallel_env`` once
per copy (``scripts/bench_spread.py``).

Dynamics, per step of ``dt = 0.1`` (mpe2's ``World.step``, agents of mass 1, no speed limit, no
motor noise). The force on agent ``i`` is its action force plus the contact forces from every
other agent ``j``,

.. math::

    f_i = u_i + \sum_{j \ne i} c\, \frac{p_i - p_j}{d_{ij}}\; k \log\big(1 + e^{-(d_{ij} - 0.3)/k}\big),
    \qquad c = 100,\; k = 10^{-3},\; d_{ij} = \lVert p_i - p_j \rVert,

(a softplus "penetration" times the contact force, 0.3 being the sum of the two radii), and the
state moves by semi-implicit Euler with damping 0.25, position first with the old velocity:
:math:`p \leftarrow p + v\,dt`, then :math:`v \leftarrow 0.75\, v + f\, dt`. Landmarks neither
move nor collide. Agents are silent (mpe2 gives them a 2-D communication state that is always 0).

The raw state is there for graph policies: :meth:`SpreadVecEnv.positions` and
:meth:`SpreadVecEnv.velocities` return ``(num_envs, N + L, 2)`` arrays, agents first, then
landmarks (velocity 0), and :attr:`SpreadVecEnv.entity_types` says which is which
(:data:`AGENT` = 0, :data:`LANDMARK` = 1), so a GNN can build the complete graph of E2GN2 over
agents and landmarks with the positions as coordinates and the type as the node feature.

Differences from mpe2: several copies in one object, all with the same step counter (episodes run
in lockstep); ``num_landmarks`` may differ from ``num_agents`` (mpe2 always has ``N`` of each;
the formulas are unchanged); two agents at exactly the same point push each other with force 0
(mpe2 divides by the distance 0 and gets NaN); actions out of ``[0, 1]`` are clipped silently
(mpe2's ``ClipOutOfBoundsWrapper`` clips with a warning, and warns for float64 actions too
because its ``Box`` is float32). mpe2's options ``curriculum``, ``terminate_on_success``,
``num_agent_neighbors``, ``num_landmark_neighbors`` and rendering are not provided.

Observation Space
-----------------
``(num_envs, N, obs_dim)`` float32 (mpe2 also casts to float32), ``obs_dim = 4 + 2 L + 4 (N - 1)``
(``6 N`` when ``L = N``: 18 for 3 agents). Row ``i`` is agent ``i``'s view, as in mpe2:

=====================  ===========  ======================================================
slice (N = L = 3)      size         content
=====================  ===========  ======================================================
``0:2``                2            own velocity
``2:4``                2            own position
``4:10``               2 L          landmark positions minus own position, landmark order
``10:14``              2 (N - 1)    other agents' positions minus own, agents in order, skipping ``i``
``14:18``              2 (N - 1)    other agents' communication: always 0
=====================  ===========  ======================================================

:attr:`SpreadVecEnv.observation_space` is the ``Box(-inf, inf, (obs_dim,), float32)`` of one agent.

Action Space
------------
With ``continuous_actions=True`` (the default; mpe2's default is discrete), mpe2's per-agent
``Box(0, 1, (5,))``: ``[no_action, move_left, move_right, move_down, move_up]``, so ``actions``
has shape ``(num_envs, N, 5)``. The force is

.. math::

    u = 5\,\big(a_2 - a_1,\; a_4 - a_3\big)

(mpe2's "sensitivity" 5; :data:`SENSITIVITY`); ``a_0`` does nothing. Values are clipped to
``[0, 1]`` first, so each force component lies in ``[-5, 5]``.

``actions`` may also be a **2-D movement** of shape ``(num_envs, N, 2)``, e.g. the Gaussian mean of
an E2GN2 policy: ``m`` acts exactly like ``movement_to_action(m)``, i.e. ``u = 5 clip(m, -1, 1)``.
:func:`movement_to_action` writes ``m`` as the 5-vector ``[0, (-m_x)^+, m_x^+, (-m_y)^+,
m_y^+]`` (positive and negative parts, clipped to ``[0, 1]``) and :func:`action_to_movement`
goes back (``a_2 - a_1, a_4 - a_3`` after clipping), so
``action_to_movement(movement_to_action(m)) == clip(m, -1, 1)``.

With ``continuous_actions=False``, mpe2's ``Discrete(5)``: integer ``actions`` of shape
``(num_envs, N)``, 0 no-op, 1 ``-x``, 2 ``+x``, 3 ``-y``, 4 ``+y``, each a force of 5 (the same as
the one-hot continuous action).

Rewards
-------
``(num_envs, N)`` float64, computed after the move. With ``lr`` = ``local_ratio``, agent ``i`` gets

.. math::

    r_i = (1 - lr)\, \Big(-\sum_{l} \min_{j} \lVert p_j - q_l \rVert\Big)
          + lr\, \big(-\#\{j \ne i : \lVert p_i - p_j \rVert < 0.3\}\big),

a shared term (the distance from each landmark :math:`q_l` to its nearest agent) and a local
penalty of -1 per agent overlapping agent ``i`` (the same 0.3 as the contact force).

Starting State
--------------
Agents and landmarks uniform in ``[-1, 1]^2`` and velocities 0, drawn from ``self.np_random``
(a NumPy ``Generator``) as one ``(num_envs, N + L, 2)`` array: copy 0 draws its agents and then its
landmarks in mpe2's order, so ``SpreadVecEnv(1).reset(seed=s)`` starts where
``simple_spread_v3.parallel_env().reset(seed=s)`` does, and the following episodes match too.
``region="left"`` (``"right"``) maps every x to ``[-1, 0]`` (``[0, 1]``) by ``x -> (x - 1) / 2``
(``(x + 1) / 2``), for the left-half / right-half generalisation test of E2GN2; y stays in
``[-1, 1]``. ``reset(options={"positions": P, "velocities": V})`` sets the state instead (either
or both): ``P`` of shape ``(num_envs, N + L, 2)`` or ``(N + L, 2)`` (the same for every copy),
``V`` of shape ``(..., N, 2)`` (agents) or ``(..., N + L, 2)`` with zero landmark rows.

Episode End
-----------
No termination (``terminated`` is always all False). Truncation after ``max_cycles`` steps
(mpe2's ``max_cycles``, default 25), in every copy at once. The step that truncates also resets
every copy (**same-step autoreset**, as the Gymnasium vector envs that
:func:`gnnrl_lite.envs.make_vec_env` builds for PPO): it returns the rewards of the last move and
the *first* observation of the next episode, with the last observation in ``info["final_obs"]``
and the last state in ``info["final_positions"]`` and ``info["final_velocities"]`` (to bootstrap
values at the time limit). ``info`` is empty on other steps. :meth:`SpreadVecEnv.reset` can be
called at any time; :meth:`SpreadVecEnv.step` before the first reset raises ``RuntimeError``.

Constructor arguments
---------------------
=======================  =======  ===========================================================
``num_envs``             --       number of copies stepped together
``num_agents``           3        agents ``N`` (mpe2's ``N``)
``num_landmarks``        None     landmarks ``L``; None: ``N``
``max_cycles``           25       steps per episode
``local_ratio``          0.5      weight of the collision penalty, in ``[0, 1]``
``continuous_actions``   True     Box(0, 1, (5,)) actions (or 2-D movements); False: Discrete(5)
``seed``                 None     seed of ``self.np_random`` (``reset(seed=...)`` reseeds it)
``region``               "all"    ``"all"``, ``"left"`` or ``"right"``: where x starts
=======================  =======  ===========================================================

Example
-------
>>> env = SpreadVecEnv(num_envs=2, seed=0)
>>> obs = env.reset(seed=0)
>>> obs.shape, env.positions().shape, env.entity_types.tolist()
((2, 3, 18), (2, 6, 2), [0, 0, 0, 1, 1, 1])
>>> move = np.zeros((2, 3, 2)); move[..., 0] = 1.0  # everyone pushes right
>>> obs, rewards, terminated, truncated, info = env.step(move)
>>> rewards.shape, bool(truncated.any()), env.velocities()[0, 0].tolist()  # v = f dt = 5 * 0.1
((2, 3), False, [0.5, 0.0])
>>> movement_to_action(np.array([0.5, -2.0])).tolist()
[0.0, 0.0, 0.5, 1.0, 0.0]

References
----------
Lowe, Wu, Tamar, Harb, Abbeel & Mordatch, *Multi-Agent Actor-Critic for Mixed
Cooperative-Competitive Environments*, NeurIPS 2017 (the particle environments); Farama's ``mpe2``
package, ``mpe2/simple_spread/simple_spread.py``, ``mpe2/_mpe_utils/core.py`` and
``simple_env.py`` (version 1.1.1); McClellan, Haghani, Winder, Huang & Tokekar,
*Boosting Sample Efficiency and Generalization in Multi-agent Reinforcement Learning via
Equivariance*, NeurIPS 2024 (E2GN2).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

__all__ = ["SpreadVecEnv", "movement_to_action", "action_to_movement", "AGENT", "LANDMARK", "SENSITIVITY",
           "AGENT_SIZE", "DT", "DAMPING", "CONTACT_FORCE", "CONTACT_MARGIN", "REGIONS"]

AGENT, LANDMARK = 0, 1
"""Entity types in :attr:`SpreadVecEnv.entity_types`."""
SENSITIVITY = 5.0
"""Force per unit of action (mpe2's default ``sensitivity``; spread agents set no ``accel``)."""
AGENT_SIZE = 0.15
"""Agent radius: agents collide (and are penalised) below a distance of ``2 * AGENT_SIZE``."""
DT, DAMPING, MASS = 0.1, 0.25, 1.0
"""mpe2's time step, velocity damping per step and agent mass."""
CONTACT_FORCE, CONTACT_MARGIN = 100.0, 1e-3
"""mpe2's ``contact_force`` and ``contact_margin`` (the softplus width ``k``)."""
COMM_DIM = 2
"""Size of mpe2's (unused, always zero) communication state of a spread agent."""
REGIONS = ("all", "left", "right")
"""Values of ``region``: x of every starting position in ``[-1, 1]``, ``[-1, 0]`` or ``[0, 1]``."""


def _float_array(x, width: int, name: str) -> np.ndarray:
    """``x`` as a float array ``(..., width)`` (float inputs keep their dtype, others become float64); ValueError on a wrong last axis or NaN."""
    x = np.asarray(x)
    if x.ndim < 1 or x.shape[-1] != width:
        raise ValueError(f"{name} must have shape (..., {width}); got shape {x.shape}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if np.isnan(x).any():
        raise ValueError(f"{name} contains NaN")
    return x


def movement_to_action(move) -> np.ndarray:
    """mpe2's 5-dim continuous action for a 2-D movement ``move`` of shape ``(..., 2)``.

    ``[0, (-x)^+, x^+, (-y)^+, y^+]`` with every entry clipped to ``[0, 1]``, so the force is
    ``SENSITIVITY * clip(move, -1, 1)``. Float inputs keep their dtype (others become float64).
    Raises ``ValueError`` if the last axis is not 2 or a value is NaN.
    """
    move = _float_array(move, 2, "move")
    action = np.zeros(move.shape[:-1] + (5,), move.dtype)
    action[..., 1] = -move[..., 0]
    action[..., 2] = move[..., 0]
    action[..., 3] = -move[..., 1]
    action[..., 4] = move[..., 1]
    return np.clip(action, 0.0, 1.0, out=action)


def action_to_movement(action) -> np.ndarray:
    """The 2-D movement ``(a_2 - a_1, a_4 - a_3)`` of mpe2 actions ``(..., 5)``, after clipping to ``[0, 1]``.

    The force is ``SENSITIVITY`` times it; the inverse of :func:`movement_to_action` on ``[-1, 1]^2``.
    Raises ``ValueError`` if the last axis is not 5 or a value is NaN.
    """
    a = np.clip(_float_array(action, 5, "action"), 0.0, 1.0)
    return np.stack([a[..., 2] - a[..., 1], a[..., 4] - a[..., 3]], axis=-1)


def _positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


class SpreadVecEnv:
    """``num_envs`` copies of MPE simple spread stepped together; see the module docstring.

    ``reset(seed=None, options=None) -> obs``; ``step(actions) -> (obs, rewards, terminated,
    truncated, info)`` with ``obs`` ``(num_envs, N, obs_dim)`` float32, ``rewards`` ``(num_envs, N)``
    float64, ``terminated`` and ``truncated`` ``(num_envs,)`` bool.
    """

    def __init__(self, num_envs: int, num_agents: int = 3, num_landmarks: int | None = None, max_cycles: int = 25,
                 local_ratio: float = 0.5, continuous_actions: bool = True, seed: int | None = None,
                 region: str = "all"):
        self.num_envs = _positive_int(num_envs, "num_envs")
        self.num_agents = _positive_int(num_agents, "num_agents")
        self.num_landmarks = self.num_agents if num_landmarks is None else _positive_int(num_landmarks, "num_landmarks", 0)
        self.max_cycles = _positive_int(max_cycles, "max_cycles")
        if isinstance(local_ratio, bool) or not isinstance(local_ratio, (int, float, np.floating, np.integer)) \
                or not 0.0 <= float(local_ratio) <= 1.0:
            raise ValueError(f"local_ratio must be a number in [0, 1]; got {local_ratio!r}")
        self.local_ratio = float(local_ratio)
        if not isinstance(continuous_actions, (bool, np.bool_)):
            raise ValueError(f"continuous_actions must be True or False; got {continuous_actions!r}")
        self.continuous_actions = bool(continuous_actions)
        if region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}; got {region!r}")
        self.region = region
        n, n_lm = self.num_agents, self.num_landmarks
        self.obs_dim = 4 + 2 * n_lm + 2 * (n - 1) + COMM_DIM * (n - 1)
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float32)
        self.action_space = spaces.Box(0.0, 1.0, (5,), np.float32) if self.continuous_actions else spaces.Discrete(5)
        self.entity_types = np.array([AGENT] * n + [LANDMARK] * n_lm, np.int64)
        self.entity_types.setflags(write=False)
        # others[i] = the other agents in order, skipping i (mpe2's order in the observation)
        self._others = np.array([[j for j in range(n) if j != i] for i in range(n)], np.int64).reshape(n, n - 1)
        self._eye = np.eye(n, dtype=bool)
        self._pair_i, self._pair_j = np.triu_indices(n, 1)
        self._incidence = np.zeros((n, len(self._pair_i)))  # (N, pairs): +1 at i, -1 at j
        self._incidence[self._pair_i, np.arange(len(self._pair_i))] = 1.0
        self._incidence[self._pair_j, np.arange(len(self._pair_j))] = -1.0
        self.np_random = np.random.default_rng(seed)
        self._pos = self._vel = self._landmarks = None  # (E, N, 2), (E, N, 2), (E, L, 2) float64
        self.steps = 0
        """Steps taken in the current episodes (the same in every copy)."""

    # ----------------------------------------------------------------------------------------- state
    def positions(self) -> np.ndarray:
        """A copy of the positions ``(num_envs, N + L, 2)``: agents, then landmarks (float64)."""
        self._require_reset()
        return np.concatenate([self._pos, self._landmarks], axis=1)

    def velocities(self) -> np.ndarray:
        """A copy of the velocities ``(num_envs, N + L, 2)``: agents, then landmarks (always 0)."""
        self._require_reset()
        return np.concatenate([self._vel, np.zeros_like(self._landmarks)], axis=1)

    def _require_reset(self) -> None:
        if self._pos is None:
            raise RuntimeError("call reset() before step(), positions() or velocities()")

    def _state_array(self, value, rows: tuple[int, ...], name: str) -> np.ndarray:
        """``value`` as a ``(num_envs, rows, 2)`` float64 array (broadcast from ``(rows, 2)``), one of ``rows``."""
        arr = np.asarray(value, dtype=np.float64)
        for r in rows:
            if arr.shape in ((r, 2), (self.num_envs, r, 2)):
                if not np.isfinite(arr).all():
                    raise ValueError(f"options[{name!r}] must be finite")
                return np.array(np.broadcast_to(arr, (self.num_envs, r, 2)))
        shapes = " or ".join(f"({r}, 2) or ({self.num_envs}, {r}, 2)" for r in rows)
        raise ValueError(f"options[{name!r}] must have shape {shapes}; got {arr.shape}")

    # ----------------------------------------------------------------------------------------- reset
    def reset(self, seed: int | None = None, options: dict | None = None) -> np.ndarray:
        """Start new episodes in every copy and return the observations ``(num_envs, N, obs_dim)``.

        ``seed`` reseeds ``self.np_random``; ``options`` may hold ``"positions"`` and/or
        ``"velocities"`` (module docstring, Starting State) to set the state instead of drawing it.
        """
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}")
            self.np_random = np.random.default_rng(int(seed))
        options = dict(options or {})
        unknown = set(options) - {"positions", "velocities"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; expected 'positions' and/or 'velocities'")
        n, n_ent = self.num_agents, self.num_agents + self.num_landmarks
        if "positions" in options:
            pos = self._state_array(options["positions"], (n_ent,), "positions")
        else:
            pos = self._draw_positions()
        vel = np.zeros((self.num_envs, n, 2))
        if "velocities" in options:
            v = self._state_array(options["velocities"], (n, n_ent), "velocities")
            if v.shape[1] == n_ent and (v[:, n:] != 0).any():
                raise ValueError("options['velocities'] must be 0 for the landmarks (rows N to N + L - 1); landmarks do not move")
            vel = v[:, :n].copy()
        self._pos, self._landmarks, self._vel = pos[:, :n].copy(), pos[:, n:].copy(), vel
        self.steps = 0
        return self._observe(*self._relative())

    def _draw_positions(self) -> np.ndarray:
        # one draw in mpe2's order per copy: agents' (x, y), then landmarks' (x, y)
        pos = self.np_random.uniform(-1.0, 1.0, (self.num_envs, self.num_agents + self.num_landmarks, 2))
        if self.region == "left":
            pos[..., 0] = (pos[..., 0] - 1.0) / 2.0
        elif self.region == "right":
            pos[..., 0] = (pos[..., 0] + 1.0) / 2.0
        return pos

    # ----------------------------------------------------------------------------------------- step
    def _action_force(self, actions) -> np.ndarray:
        """mpe2's action force ``u`` ``(num_envs, N, 2)`` (float64) for any accepted form of ``actions``."""
        e, n = self.num_envs, self.num_agents
        arr = np.asarray(actions)
        if not self.continuous_actions:
            if arr.shape != (e, n) or arr.dtype.kind not in "iu":
                raise ValueError(f"discrete actions must be integers of shape ({e}, {n}); got {arr.dtype} {arr.shape}")
            if arr.size and (arr.min() < 0 or arr.max() > 4):
                raise ValueError("discrete actions must lie in {0, 1, 2, 3, 4}")
            u = np.zeros((e, n, 2))
            u[..., 0] = (arr == 2).astype(np.float64) - (arr == 1)
            u[..., 1] = (arr == 4).astype(np.float64) - (arr == 3)
            return u * SENSITIVITY
        if arr.shape not in ((e, n, 5), (e, n, 2)):
            raise ValueError(f"actions must have shape ({e}, {n}, 5) (mpe2 actions) or ({e}, {n}, 2) (movements); got {arr.shape}")
        if arr.dtype.kind not in "fiub":
            raise ValueError(f"actions must be numbers; got dtype {arr.dtype}")
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        if np.isnan(arr).any():
            raise ValueError("actions contain NaN")
        if arr.shape[-1] == 2:
            arr = movement_to_action(arr)
        a = np.clip(arr, 0.0, 1.0)
        # as mpe2: the difference in the action's dtype, then float64, then times the sensitivity
        u = np.empty((e, n, 2))
        u[..., 0] = a[..., 2] - a[..., 1]
        u[..., 1] = a[..., 4] - a[..., 3]
        return u * SENSITIVITY

    def _contact_force(self) -> np.ndarray:
        """Sum over the other agents of mpe2's softplus contact force, ``(num_envs, N, 2)``."""
        delta = self._pos[:, self._pair_i] - self._pos[:, self._pair_j]  # (E, pairs, 2): p_i - p_j, i < j
        dist = np.sqrt(np.square(delta[..., 0]) + np.square(delta[..., 1]))
        dist = np.where(dist > 0.0, dist, np.inf)  # agents at the same point: no force (mpe2: NaN)
        k = CONTACT_MARGIN
        penetration = np.logaddexp(0.0, -(dist - 2 * AGENT_SIZE) / k) * k
        force = CONTACT_FORCE * delta / dist[..., None] * penetration[..., None]
        return self._incidence @ force  # + force on i, - force on j

    def _relative(self) -> tuple[np.ndarray, np.ndarray]:
        """Landmarks minus agents ``(E, N, L, 2)`` and agents minus agents ``(E, N, N, 2)`` ([i, j] = p_j - p_i)."""
        return (self._landmarks[:, None, :, :] - self._pos[:, :, None, :],
                self._pos[:, None, :, :] - self._pos[:, :, None, :])

    def _observe(self, lm_rel: np.ndarray, ag_rel: np.ndarray) -> np.ndarray:
        e, n, n_lm = self.num_envs, self.num_agents, self.num_landmarks
        obs = np.zeros((e, n, self.obs_dim), np.float32)  # float64 values rounded once, as mpe2's astype
        obs[..., 0:2] = self._vel
        obs[..., 2:4] = self._pos
        obs[..., 4:4 + 2 * n_lm] = lm_rel.reshape(e, n, 2 * n_lm)
        others = ag_rel[:, np.arange(n)[:, None], self._others]  # (E, N, N - 1, 2)
        obs[..., 4 + 2 * n_lm:4 + 2 * n_lm + 2 * (n - 1)] = others.reshape(e, n, 2 * (n - 1))
        return obs  # the communication slots stay 0

    def _rewards(self, lm_rel: np.ndarray, ag_rel: np.ndarray) -> np.ndarray:
        lm_dist = np.sqrt(np.square(lm_rel[..., 0]) + np.square(lm_rel[..., 1]))  # (E, N, L)
        global_reward = -lm_dist.min(axis=1).sum(axis=1)  # nearest agent to each landmark
        ag_dist = np.sqrt(np.square(ag_rel[..., 0]) + np.square(ag_rel[..., 1]))  # (E, N, N)
        collisions = ((ag_dist < 2 * AGENT_SIZE) & ~self._eye).sum(axis=2)
        return global_reward[:, None] * (1.0 - self.local_ratio) - collisions * self.local_ratio

    def step(self, actions):
        """Move every agent of every copy; returns ``obs, rewards, terminated, truncated, info``.

        ``actions``: ``(num_envs, N, 5)`` mpe2 actions or ``(num_envs, N, 2)`` movements
        (``continuous_actions=True``), or ``(num_envs, N)`` integers in ``0..4`` (False). When the
        episodes reach ``max_cycles`` steps, ``truncated`` is all True, every copy is reset and
        ``info`` holds ``final_obs``, ``final_positions`` and ``final_velocities``.
        """
        self._require_reset()
        force = self._action_force(actions) + self._contact_force()
        self._pos = self._pos + self._vel * DT
        self._vel = self._vel * (1.0 - DAMPING)
        self._vel += (force / MASS) * DT
        self.steps += 1
        lm_rel, ag_rel = self._relative()
        obs = self._observe(lm_rel, ag_rel)
        rewards = self._rewards(lm_rel, ag_rel)
        terminated = np.zeros(self.num_envs, bool)
        truncated = np.full(self.num_envs, self.steps >= self.max_cycles)
        info = {}
        if self.steps >= self.max_cycles:
            info = {"final_obs": obs, "final_positions": self.positions(), "final_velocities": self.velocities()}
            obs = self.reset()
        return obs, rewards, terminated, truncated, info
