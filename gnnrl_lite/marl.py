r"""Independent PPO with parameter sharing on simple spread: the team as a vector env of agent streams, and E2GN2 policies.

Independent PPO with parameter sharing (RLlib's multi-agent PPO without a centralised critic, as
in E2GN2; McClellan et al., 2024) trains one policy :math:`\pi_\theta(a_i \mid o_i)` and one
critic :math:`V_\phi(o_i)` for every agent :math:`i`, each agent learning from its own reward
:math:`r_i` as if the others were part of the environment. With one shared network this *is*
single-agent PPO over :math:`E \times N` parallel streams, one per (copy, agent) pair, so
:func:`gnnrl_lite.algos.ppo.train` runs it unchanged on :class:`SpreadAgents`, a Gymnasium vector
env whose stream :math:`k` is agent :math:`k \bmod N` of copy :math:`\lfloor k / N \rfloor` of a
:class:`~gnnrl_lite.envs.spread.SpreadVecEnv`.

:class:`GraphTeamActorCritic` is E2GN2's MARL policy (:mod:`gnnrl_lite.egnn`): the complete graph
of the :math:`M = N + L` agents and landmarks, positions as coordinates :math:`u^0`, entity types as
invariant features, and no MLP after the last layer,

.. math::

    \pi(a_i \mid s) = \mathcal{N}\big(u_i^L,\ \mathrm{diag}\,\sigma^2\big), \qquad
    V(s) = w^\top h_i^{\prime L} + b,

with :math:`(h^L, u^L)` from the actor network and :math:`h^{\prime L}` from a separate critic
network of the same kind. Since :math:`u_i^L` rotates with the scene and :math:`h^{\prime L}` does
not, the policy mean is O(2)-equivariant and the value invariant. With EGNN layers the mean starts
near the agent's own position, :math:`u_i^L \approx u_i^0` (every agent first walks away from the
origin); with E2GN2 it starts near 0. :func:`movement_slope` measures this.

To reuse: copy this file, ``egnn.py``, ``nn.py``, ``checks.py`` and ``envs/spread.py``; needs
torch, dgl, gymnasium. Used in Chapter 7.

References
----------
McClellan, Haghani, Winder, Huang & Tokekar, *Boosting Sample Efficiency and Generalization in
Multi-agent Reinforcement Learning via Equivariance*, NeurIPS 2024
(https://openreview.net/forum?id=MQIET1VfoV).
de Witt et al., *Is Independent Learning All You Need in the StarCraft Multi-Agent Challenge?*,
2020 (independent PPO).
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Independent, Normal

import dgl

from .checks import check_choice, check_finite, check_positive_int
from .egnn import KINDS, EquivariantGraphNetwork, complete_graph
from .envs.spread import SpreadVecEnv
from .graphs import collate_obs

__all__ = ["OBS_KINDS", "NODE_FEATURES", "SpreadAgents", "scene_obs", "scene_from_obs", "GraphTeamActorCritic",
           "movement_slope"]

OBS_KINDS = ("scene", "mpe")
"""Values of :class:`SpreadAgents`'s ``obs``: the whole scene (graph policies, or an MLP) or mpe2's own view."""
NODE_FEATURES = ("agent", "landmark", "ego")
"""The invariant feature columns of each entity in a scene observation: type one-hot, then the ego flag."""


def _scene_dim(num_agents: int, num_landmarks: int) -> int:
    return (4 + len(NODE_FEATURES)) * (num_agents + num_landmarks)


def scene_obs(positions: np.ndarray, velocities: np.ndarray, num_agents: int) -> np.ndarray:
    r"""The scene observation of every agent, ``(E, N, 7 M)`` float32, from the state of ``E`` copies.

    Parameters
    ----------
    positions, velocities : numpy.ndarray
        ``(E, M, 2)`` with :math:`M = N + L`, agents first (as
        :meth:`~gnnrl_lite.envs.spread.SpreadVecEnv.positions` returns them).
    num_agents : int
        :math:`N`; row ``[e, i]`` of the result is agent ``i``'s view of copy ``e``.

    Returns
    -------
    numpy.ndarray
        Layout in :class:`SpreadAgents` (Observation Space); the values are rounded to float32 once.
    """
    positions, velocities = np.asarray(positions), np.asarray(velocities)
    if positions.ndim != 3 or positions.shape[-1] != 2 or velocities.shape != positions.shape:
        raise ValueError(f"positions and velocities must both have shape (E, M, 2); got {positions.shape} and {velocities.shape}")
    e, m, _ = positions.shape
    n = check_positive_int(num_agents, "num_agents")
    if n > m:
        raise ValueError(f"num_agents {n} exceeds the {m} entities")
    features = np.zeros((n, m, len(NODE_FEATURES)), np.float32)  # (N, M, 3): one block per ego agent
    features[:, :n, 0] = 1.0  # agent
    features[:, n:, 1] = 1.0  # landmark
    features[np.arange(n), np.arange(n), 2] = 1.0  # ego
    obs = np.empty((e, n, _scene_dim(n, m - n)), np.float32)
    obs[..., :2 * m] = positions.reshape(e, 1, 2 * m)
    obs[..., 2 * m:4 * m] = velocities.reshape(e, 1, 2 * m)
    obs[..., 4 * m:] = features.reshape(1, n, -1)
    return obs


def scene_from_obs(obs, num_agents: int, num_landmarks: int):
    r"""Split scene observations ``(..., 7 M)`` into positions ``(..., M, 2)``, velocities ``(..., M, 2)`` and node features ``(..., M, 3)``.

    Works on NumPy arrays and torch tensors alike (returning views of the same kind), so a policy
    never hard-codes offsets. Node feature columns are :data:`NODE_FEATURES`: ``[is_agent,
    is_landmark, is_ego]``. Raises ``ValueError`` if the last axis is not :math:`7 (N + L)`.

    Examples
    --------
    >>> env = SpreadAgents(num_envs=2, num_agents=3)
    >>> obs, _ = env.reset(seed=0)
    >>> pos, vel, feat = scene_from_obs(obs, 3, 3)
    >>> pos.shape, feat[4].tolist()  # stream 4 = copy 1, agent 1
    ((6, 6, 2), [[1.0, 0.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    """
    n, n_lm = check_positive_int(num_agents, "num_agents"), int(num_landmarks)
    m, dim = n + n_lm, _scene_dim(n, n_lm)
    if obs.shape[-1] != dim:
        raise ValueError(f"scene observations for {n} agents and {n_lm} landmarks have {dim} entries (7 per entity); "
                         f"got shape {tuple(obs.shape)} (an obs='mpe' observation?)")
    lead = tuple(obs.shape[:-1])
    positions = obs[..., :2 * m].reshape(lead + (m, 2))
    velocities = obs[..., 2 * m:4 * m].reshape(lead + (m, 2))
    features = obs[..., 4 * m:].reshape(lead + (m, len(NODE_FEATURES)))
    return positions, velocities, features


class SpreadAgents(gym.vector.VectorEnv):
    r"""Simple spread's agents as a Gymnasium vector env of :math:`E N` streams, for independent PPO with parameter sharing.

    Stream :math:`k` is agent :math:`k \bmod N` of copy :math:`\lfloor k / N \rfloor` of a
    :class:`~gnnrl_lite.envs.spread.SpreadVecEnv` ``(E, N, L)``: its observation is what that agent
    sees, its action that agent's movement, its reward that agent's reward. Dynamics, rewards,
    starting states and the episode length are :class:`~gnnrl_lite.envs.spread.SpreadVecEnv`'s.

    **Observation space.**
    ``obs="scene"`` (default): the whole scene from the agent's point of view, ``Box(-inf, inf,
    (7 M,), float32)``, :math:`M = N + L` entities in a fixed order, agents ``0..N-1`` then
    landmarks (the *same* order for every agent; the ego flag, not the position, says which agent
    is "me"). Read it with :func:`scene_from_obs`.

    =============  ========  ===========================================================
    slice          size      content
    =============  ========  ===========================================================
    ``0:2M``       2 M       absolute positions :math:`(x, y)` of entity 0, 1, ..., M-1
    ``2M:4M``      2 M       velocities, same order (0 for landmarks)
    ``4M:7M``      3 M       per entity ``[is_agent, is_landmark, is_ego]`` (:data:`NODE_FEATURES`)
    =============  ========  ===========================================================

    42 entries for :math:`N = L = 3`. ``obs="mpe"``: mpe2's own per-agent observation
    (``4 + 2 L + 4 (N - 1)`` entries: own velocity and position, landmarks and other agents
    relative to it, zero communication; see :mod:`gnnrl_lite.envs.spread`), the natural input of an
    MLP baseline. Which input the E2GN2 paper's MLP baseline read is not stated (UNVERIFIED); with
    RLlib on PettingZoo's MPE it was most likely this one.

    **Action space.**
    ``Box(-1, 1, (2,), float32)`` per stream: a 2-D movement, force :math:`5\,\mathrm{clip}(a, -1, 1)`
    (:func:`~gnnrl_lite.envs.spread.movement_to_action`; PPO clips to the box).

    **Rewards.**
    ``(E N,)`` float64: stream :math:`k` gets its agent's reward :math:`r_i` (shared coverage term
    plus its own collision penalty). :func:`~gnnrl_lite.algos.ppo.train`'s
    ``charts/episodic_return`` is therefore *one agent's* return; RLlib's ``episode_reward_mean``
    sums over the agents (about :math:`N` times as large).

    **Episode end.**
    Never terminated; truncated after ``max_cycles`` steps in every stream at once, with
    **same-step autoreset** (``metadata["autoreset_mode"]``): the truncating step returns the first
    observation of the next episode, and, as Gymnasium's ``SyncVectorEnv``, ``info["final_obs"]``
    is an object array ``(E N,)`` holding each stream's last observation with the mask
    ``info["_final_obs"]`` (all True). ``info`` is empty on other steps and after ``reset``.

    **Arguments.**

    ======================  ========  ======================================================
    ``num_envs``            --        copies :math:`E` of the scene (``self.num_envs`` is :math:`E N`)
    ``num_agents``          3         agents :math:`N`
    ``num_landmarks``       None      landmarks :math:`L`; None: :math:`N`
    ``obs``                 "scene"   ``"scene"`` or ``"mpe"`` (above)
    ``max_cycles``          25        steps per episode
    ``local_ratio``         0.5       weight of the collision penalty
    ``region``              "all"     ``"all"``, ``"left"`` or ``"right"``: where x starts
    ``seed``                None      seed of the copies' generator (``reset(seed=...)`` reseeds it)
    ======================  ========  ======================================================

    ``reset(seed=None, options=None)`` passes both to :meth:`~gnnrl_lite.envs.spread.SpreadVecEnv.reset`, so
    ``options={"positions": P, "velocities": V}`` sets the state. The wrapped env is ``self.spread``.

    Examples
    --------
    >>> env = SpreadAgents(num_envs=4, num_agents=3)
    >>> obs, info = env.reset(seed=0)
    >>> env.num_envs, obs.shape, obs.dtype, env.single_action_space.shape
    (12, (12, 42), dtype('float32'), (2,))
    >>> obs, rewards, terminated, truncated, info = env.step(np.zeros((12, 2), np.float32))
    >>> rewards.shape, bool(truncated.any()), info
    ((12,), False, {})
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, num_agents: int = 3, num_landmarks: int | None = None, obs: str = "scene",
                 max_cycles: int = 25, local_ratio: float = 0.5, region: str = "all", seed: int | None = None):
        self.obs_kind = check_choice(obs, OBS_KINDS, "obs")
        self.spread = SpreadVecEnv(num_envs, num_agents, num_landmarks, max_cycles=max_cycles, local_ratio=local_ratio,
                                   continuous_actions=True, seed=seed, region=region)
        self.num_agents, self.num_landmarks = self.spread.num_agents, self.spread.num_landmarks
        self.num_envs = self.spread.num_envs * self.num_agents
        dim = _scene_dim(self.num_agents, self.num_landmarks) if self.obs_kind == "scene" else self.spread.obs_dim
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)

    def _streams(self, mpe_obs: np.ndarray, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
        """``(E N, D)`` stream observations from the copies' mpe2 observations or state."""
        obs = mpe_obs if self.obs_kind == "mpe" else scene_obs(positions, velocities, self.num_agents)  # (E, N, D)
        return obs.reshape(self.num_envs, -1)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start new episodes in every copy; returns ``(obs (E N, D), {})``."""
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int or None (one generator drives all copies); got {type(seed).__name__}")
        mpe_obs = self.spread.reset(seed=seed, options=options)
        return self._streams(mpe_obs, self.spread.positions(), self.spread.velocities()), {}

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Move every agent by its stream's action ``(E N, 2)``; returns ``obs, rewards, terminated, truncated, info``."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, 2):
            raise ValueError(f"actions must have shape ({self.num_envs}, 2), one 2-D movement per stream; got {actions.shape}")
        e, n = self.spread.num_envs, self.num_agents
        mpe_obs, rewards, terminated, truncated, env_info = self.spread.step(actions.reshape(e, n, 2))
        info = {}
        if "final_obs" in env_info:  # the copies were reset: the state below is already the next episode's
            final = self._streams(env_info["final_obs"], env_info["final_positions"], env_info["final_velocities"])
            final_obs = np.empty(self.num_envs, dtype=object)
            final_obs[:] = list(final)
            info = {"final_obs": final_obs, "_final_obs": np.ones(self.num_envs, bool)}
        obs = self._streams(mpe_obs, self.spread.positions(), self.spread.velocities())
        return (obs, rewards.reshape(-1), np.repeat(terminated, n), np.repeat(truncated, n), info)


class GraphTeamActorCritic(nn.Module):
    r"""E2GN2's shared MARL policy on scene observations: Gaussian mean = the ego agent's output coordinate :math:`u_i^L`.

    For each stream the :math:`M = N + L` entities form a complete graph (no self-loops; batched
    and cached per batch size) with coordinates :math:`u^0_j = p_j` (absolute positions) and
    invariant features :math:`h_j` = ``[is_agent, is_landmark, is_ego]`` (plus the speed
    :math:`\lVert v_j \rVert` if ``speed``). Two networks of the same ``kind``
    (:class:`~gnnrl_lite.egnn.EquivariantGraphNetwork`) read it, and the outputs are taken at the ego
    agent's node :math:`i`, with no MLP after the last layer:

    .. math::

        (h^L, u^L) = \mathrm{Net}_\theta(G, h, u^0), \qquad
        \pi(\cdot \mid s) = \mathcal{N}\big(\mu,\ \mathrm{diag}\, e^{2 \log\sigma}\big), \quad
        \mu = u_i^L, \qquad
        V(s) = w^\top h_i^{\prime L} + b, \quad (h^{\prime L}, \cdot) = \mathrm{Net}_\phi(G, h, u^0)

    with a state-independent, learned :math:`\log\sigma \in \mathbb{R}^2`. For ``kind="gnn"`` (the
    paper's GNN baseline: coordinates are message inputs and never updated) :math:`u^L = u^0`, so
    the mean is a linear head :math:`\mu = W h_i^L + c` (orthogonal init, gain 0.01, as
    :class:`~gnnrl_lite.policies.MLPActorCritic`'s last layer). This baseline is not equivariant.

    *Symmetry.* For ``"egnn"`` and ``"e2gn2"``, rotating or reflecting the scene (positions and
    velocities, :math:`p \mapsto Q p`) maps :math:`\mu \mapsto Q \mu` and leaves :math:`V` unchanged;
    for every kind, reordering the entities leaves every agent's :math:`\mu` and :math:`V`
    unchanged.

    *At initialisation* (:func:`movement_slope`): EGNN's :math:`\mu \approx p_i`, the agent's own
    position (:math:`|\mu| \approx 0.5` on spread's starts); E2GN2's :math:`|\mu| \approx 10^{-3}`
    with 2 layers (:math:`10^{-2}` with 1, :math:`10^{-5}` with 3: each layer scales :math:`u` by
    :math:`\phi_{u2} \approx \pm 0.03`); the GNN's :math:`|\mu| \approx 5 \times 10^{-3}`. Note that simple spread itself is only symmetric under the square's group
    :math:`D_4`: actions are clipped per coordinate to :math:`[-1, 1]^2` and starts are drawn in a
    square.

    Parameters
    ----------
    kind : str
        ``"e2gn2"``, ``"egnn"`` or ``"gnn"`` (:data:`gnnrl_lite.egnn.KINDS`).
    num_agents, num_landmarks : int
        :math:`N` and :math:`L` of the scene observations (``num_landmarks=None``: :math:`N`).
    hidden : int
        Width of :math:`h` and the messages (the paper: 32).
    layers : int
        Message-passing layers :math:`L` per network.
    speed : bool
        Append each entity's speed :math:`\lVert v_j \rVert` (invariant) to :math:`h_j`. Default
        ``False``: the paper's MPE inputs are the entity type only, and velocities are then unseen.
    log_std_init : float
        Initial :math:`\log\sigma` (0, i.e. :math:`\sigma = 1`, as ``MLPActorCritic``).

    Notes
    -----
    Choices of ours (the paper gives no code): the ego flag (the paper runs the graph once per
    scene and reads every agent's own node, which is the same function without the flag; with it a
    node knows whose action it computes); the velocity direction is not used at all (it would
    need a second vector channel); no value normalisation (the paper used it). Shapes:
    ``forward(obs)`` takes ``(B, 7 M)`` and returns an ``Independent(Normal)`` over ``(B, 2)`` and
    values ``(B,)``.

    Examples
    --------
    >>> env = SpreadAgents(num_envs=2)
    >>> obs, _ = env.reset(seed=0)
    >>> dist, value = GraphTeamActorCritic("e2gn2", num_agents=3)(torch.as_tensor(obs))
    >>> dist.sample().shape, value.shape
    (torch.Size([6, 2]), torch.Size([6]))
    """

    _MAX_CACHED_GRAPHS = 8

    def __init__(self, kind: str = "e2gn2", num_agents: int = 3, num_landmarks: int | None = None, hidden: int = 32,
                 layers: int = 2, speed: bool = False, log_std_init: float = 0.0):
        super().__init__()
        self.kind = check_choice(kind, KINDS, "kind")
        self.num_agents = check_positive_int(num_agents, "num_agents")
        self.num_landmarks = self.num_agents if num_landmarks is None else int(num_landmarks)
        if self.num_landmarks < 0:
            raise ValueError(f"num_landmarks must be >= 0; got {num_landmarks!r}")
        self.num_entities = self.num_agents + self.num_landmarks
        self.obs_dim = _scene_dim(self.num_agents, self.num_landmarks)
        self.speed = bool(speed)
        in_dim = len(NODE_FEATURES) + int(self.speed)
        self.actor = EquivariantGraphNetwork(in_dim, hidden, layers, self.kind)  # Net_theta
        self.critic = EquivariantGraphNetwork(in_dim, hidden, layers, self.kind)  # Net_phi
        if self.kind == "gnn":
            self.mean_head = nn.Linear(hidden, 2)  # mu = W h_i^L + c
            nn.init.orthogonal_(self.mean_head.weight, 0.01)
            nn.init.zeros_(self.mean_head.bias)
        self.value_head = nn.Linear(hidden, 1)  # V = w^T h'_i^L + b
        nn.init.orthogonal_(self.value_head.weight, 1.0)
        nn.init.zeros_(self.value_head.bias)
        self.log_std = nn.Parameter(torch.full((2,), float(log_std_init)))
        self._graphs: dict = {}  # (batch size, device) -> complete_graph(M, batch)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, num_agents={self.num_agents}, num_landmarks={self.num_landmarks}, speed={self.speed}"

    def graph(self, batch: int, device: torch.device | str = "cpu") -> dgl.DGLGraph:
        """``batch`` complete graphs on the :math:`M` entities, batched (cached for the last few batch sizes)."""
        key = (int(batch), str(device))
        if key not in self._graphs:
            if len(self._graphs) >= self._MAX_CACHED_GRAPHS:
                self._graphs.pop(next(iter(self._graphs)))
            self._graphs[key] = complete_graph(self.num_entities, batch).to(device)
        return self._graphs[key]

    def forward(self, obs: torch.Tensor):
        mean, g, h0, u0, ego = self._actor(obs)
        h_value, _ = self.critic(g, h0, u0)  # (B M, H)
        value = self.value_head(h_value[ego]).squeeze(-1)  # (B,)
        return Independent(Normal(mean, self.log_std.exp().expand_as(mean)), 1), value

    def mean_movement(self, obs: torch.Tensor) -> torch.Tensor:
        """The greedy action, the policy's mean :math:`\\mu` ``(B, 2)``, without running the critic (half the cost of ``forward``)."""
        return self._actor(obs)[0]

    def _actor(self, obs: torch.Tensor):
        if not isinstance(obs, torch.Tensor) or obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"GraphTeamActorCritic expects scene observations of shape (B, {self.obs_dim}) "
                             f"(SpreadAgents(obs='scene')); got {getattr(obs, 'shape', type(obs).__name__)}")
        check_finite(obs, "observation")
        B, M = obs.shape[0], self.num_entities
        positions, velocities, features = scene_from_obs(obs, self.num_agents, self.num_landmarks)  # (B, M, 2/2/3)
        ego_flag = features[..., 2]  # (B, M)
        if not torch.equal(ego_flag.sum(dim=1), torch.ones_like(ego_flag[:, 0])):
            raise ValueError("every scene observation must flag exactly one ego entity (column 'ego')")
        h = torch.cat([features, velocities.norm(dim=-1, keepdim=True)], dim=-1) if self.speed else features
        h0, u0 = h.reshape(B * M, -1), positions.reshape(B * M, 2)  # (B M, F), (B M, 2)
        ego = torch.arange(B, device=obs.device) * M + ego_flag.argmax(dim=1)  # the ego node of every graph: (B,)
        g = self.graph(B, obs.device)
        h_L, u_L = self.actor(g, h0, u0)  # (B M, H), (B M, 2)
        mean = self.mean_head(h_L[ego]) if self.kind == "gnn" else u_L[ego]  # mu = u_i^L: (B, 2)
        return mean, g, h0, u0, ego


def movement_slope(policy_factory: Callable[[], nn.Module], num_agents: int = 3, num_landmarks: int | None = None,
                   obs: str = "scene", inits: int = 50, scenes: int = 32, seed: int = 0, region: str = "all",
                   pooled: bool = True):
    r"""Least-squares slope of the policy's mean movement on the agent's own position, for fresh initialisations.

    For each of ``inits`` initialisations ``k``, builds ``policy_factory()`` after
    ``torch.manual_seed(seed + k)``, draws ``scenes`` starting states of simple spread
    (:class:`SpreadAgents` ``reset(seed=seed + k)``) and records every agent's mean action
    :math:`\mu` (``dist.mean``) and position :math:`p`, both coordinates pooled; returns

    .. math::

        \hat\beta = \frac{\sum_k (p_k - \bar p)(\mu_k - \bar\mu)}{\sum_k (p_k - \bar p)^2},

    over all initialisations (``pooled=True``) or an array of ``inits`` slopes, one per
    initialisation (``pooled=False``). EGNN gives :math:`\hat\beta \approx 1` (the agent first heads
    away from the origin), E2GN2 :math:`\approx 0` (each layer multiplies :math:`u` by
    :math:`\phi_{u2} \approx \pm 0.03`, so with 2 layers every single network's mean is already
    about :math:`10^{-3}` and its slope about 0), the GNN baseline and an MLP about 0 (a last layer
    of gain 0.01). The global random state is restored.

    Parameters
    ----------
    policy_factory : callable
        Returns a fresh policy ``policy(obs) -> (dist, value)`` for :class:`SpreadAgents` observations
        of kind ``obs`` (``policy.collate``, if any, batches them).
    num_agents, num_landmarks, obs, region
        As in :class:`SpreadAgents`.
    inits, scenes : int
        Initialisations, and scenes per initialisation.
    seed : int
        Initialisation ``k`` uses the seed ``seed + k`` for the network and the scenes.
    pooled : bool
        One pooled slope (float) or one slope per initialisation (``np.ndarray`` of shape ``(inits,)``).

    Examples
    --------
    >>> make = lambda: GraphTeamActorCritic("egnn", num_agents=3)
    >>> round(movement_slope(make, inits=3, scenes=4), 2)
    1.0
    """
    inits, scenes = check_positive_int(inits, "inits"), check_positive_int(scenes, "scenes")
    env = SpreadAgents(scenes, num_agents, num_landmarks, obs=obs, region=region)
    ps, mus = [], []
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        for k in range(inits):
            torch.manual_seed(seed + k)
            policy = policy_factory()
            o, _ = env.reset(seed=seed + k)
            dist, _ = policy(getattr(policy, "collate", collate_obs)(o))
            ps.append(env.spread.positions()[:, :env.num_agents].reshape(-1))  # stream order: (E N 2,)
            mus.append(dist.mean.double().cpu().numpy().reshape(-1))

    def slope(p: np.ndarray, mu: np.ndarray) -> float:
        pc = p - p.mean()
        return float((pc * (mu - mu.mean())).sum() / (pc**2).sum())

    if pooled:
        return slope(np.concatenate(ps), np.concatenate(mus))
    return np.array([slope(p, mu) for p, mu in zip(ps, mus)])
