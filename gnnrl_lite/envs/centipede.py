r"""Centipede-n: NerveNet's many-legged walker in MuJoCo, as a Gymnasium env and as a morphology graph.

Description
-----------
A chain of ``n / 2`` spherical torso segments along the :math:`+x` axis, each carrying two legs
(thigh and shin capsules), for any even ``n >= 4``: the benchmark of NerveNet (Wang et al., 2018)
and Snowflake (Blake et al., 2021), whose point is that one graph network controls every size.
The model is generated here in Python (:func:`centipede_xml`) with the same bodies, joints,
actuators, integrator (RK4, ``timestep=0.01``) and frame skip (5, so ``dt = 0.05`` s) as NerveNet's
``centipede_generator.py``. Consecutive segments are joined by two actuated hinges, ``body_k``
(yaw, :math:`\pm 20°`) and ``bodyupdown_k`` (pitch, :math:`[-10°, 30°]`); every leg has a hip
(yaw, :math:`\pm 40°`, gear 150) and an ankle (:math:`[30°, 100°]`, gear 150); the body joints
have gear 100. Body geoms collide with the floor, never with each other.

The simulator differs: the papers used MuJoCo 1.31 (NerveNet) and 1.50 (Snowflake), we use the
``mujoco`` bindings (checked with 4.0), so contact dynamics and returns need not match theirs
exactly. Modern MuJoCo leaves ``data.cfrc_ext`` at zero after ``mj_step``; we call
``mujoco.mj_rnePostConstraint`` after every step (and at reset) so the contact forces in the
observation and the contact cost are real, as they were in the papers.

Action Space
------------
``Box(-1, 1, (3n - 2,), float32)``: one motor torque per actuated joint, in **NerveNet's actuator
order**, which is not the joint (node) order: for every leg ``i = 0..n-1`` its hip then its
ankle, and after every odd leg ``i >= 3`` the two joints ``body_k``, ``bodyupdown_k`` with
``k = (i - 1) / 2``. For ``n = 6``: lh0, a0, rh1, a1, lh2, a2, rh3, a3, body1, bud1, lh4, a4, rh5,
a5, body2, bud2. :func:`actuator_to_node` maps actuators to graph nodes. Actions reach MuJoCo
unclipped; MuJoCo clamps the control to ``[-1, 1]``, the control cost uses the raw action.

Observation Space
-----------------
``Box(-inf, inf, (21n + 13,), float64)``, the concatenation (``Q = 3n + 3``, ``C = 6n + 7``):

=================  ===================  ==================================================
slice              size                 content
=================  ===================  ==================================================
``[0, Q)``         ``nq - 2 = 3n + 3``  ``qpos[2:]``: root z, root quaternion (w, x, y, z),
                                        then the ``3n - 2`` hinge angles (rad), joint order
``[Q, C)``         ``nv = 3n + 4``      ``qvel``: root linear and angular velocity, then the
                                        hinge velocities
``[C, 21n + 13)``  ``6 (2.5n + 1)``     ``clip(cfrc_ext, -1, 1)`` of every body, world first
=================  ===================  ==================================================

Per-node features for a graph policy come from :func:`split_observation`: the **root** node
(torso_0 with the free joint) gets 17 numbers (z and quaternion 5, root velocity 6, torso_0's
contact force 6) and every **joint** node 8 numbers (its angle 1, its velocity 1, the contact
force of the body it moves 6: ``legbody_i`` for a hip, ``frontFoot_i`` for an ankle, ``torso_k``
for ``body_k`` and ``bodyupdown_k``). The world body's 6 numbers go to no node.

Rewards
-------
With :math:`x` the world :math:`x`-position of the **last** torso segment (the front of the
animal), :math:`a` the raw action, :math:`F` the clipped contact forces and
:math:`\Delta t = 0.05`:

.. math::

    r_t = \underbrace{\frac{x_{t+1} - x_t}{\Delta t}}_{\texttt{reward\_forward}}
          \; - \; \underbrace{w_c \frac{4}{n} \sum_j a_j^2}_{-\texttt{reward\_ctrl}}
          \; - \; \underbrace{w_f \frac{4}{n} \sum_{b,k} F_{bk}^2}_{-\texttt{reward\_contact}}
          \; + \; \underbrace{h}_{\texttt{reward\_survive}}

with :math:`w_c = 0.5` (``ctrl_cost_weight``), :math:`w_f = 5 \times 10^{-4}`
(``contact_cost_weight``) and :math:`h = 1` (``healthy_reward``): Ant's weights, scaled by
:math:`4/n` so that the costs do not grow with the number of legs. The survival bonus is paid on
every step, the last one included. ``info`` holds the four terms (they sum to the reward),
``x_position`` and ``x_velocity``.

Starting State
--------------
``qpos = qpos0 + U(-s, s)`` on every coordinate (the root quaternion included, left unnormalised)
and ``qvel = s N(0, 1)``, with ``s = reset_noise_scale = 0.1``. At ``qpos0`` every hinge is 0, so
the ankles start outside their :math:`[30°, 100°]` range and the joint limits push the shins down
during the first steps (the body settles near z = 0.68). As in NerveNet's code, the pitch joints
``bodyupdown_k`` get smaller noise :math:`U(-s/(n/2 - 1), s/(n/2 - 1))`, except that the original
index list has its last entry replaced by 5, so the **last** pitch joint keeps the full noise
and the quaternion's y component gets the small one instead (a quirk we reproduce). The draw is
repeated until the state is healthy (below).

Episode End
-----------
Termination when the state is not healthy: it is healthy when ``qpos`` and ``qvel`` are finite,
every torso centre has :math:`0.35 < z < 1.15` (``healthy_z_range``) and every two consecutive
torsos have :math:`|y_{k+1} - y_k| < 0.45` (``max_lateral_gap``, a sideways-drift check).
Truncation after ``max_episode_steps = 1000`` steps, done inside the env (no ``TimeLimit``
wrapper needed). NerveNet's learner bootstrapped values at neither.

Constructor arguments
---------------------
=======================  ===============  ==========================================================
``n``                    6                number of legs, even, at least 4
``ctrl_cost_weight``     0.5              :math:`w_c`, multiplied by :math:`4/n`
``contact_cost_weight``  5e-4             :math:`w_f`, multiplied by :math:`4/n`
``healthy_reward``       1.0              :math:`h`, the survival bonus per step
``healthy_z_range``      (0.35, 1.15)     open interval for every torso centre's height
``max_lateral_gap``      0.45             largest :math:`|\Delta y|` between consecutive torsos
``reset_noise_scale``    0.1              :math:`s`
``frame_skip``           5                MuJoCo steps per env step
``max_episode_steps``    1000             truncation
=======================  ===============  ==========================================================

Morphology graph
----------------
NerveNet's graph (its ``nG,nB`` options: no geom nodes, body nodes pruned) has ``3n - 1`` nodes:
node 0 is the root (torso_0 and the free joint), node ``j + 1`` the ``j``-th actuated joint in
MuJoCo's joint order (:func:`joint_names`), which is also its MuJoCo joint id. It is a tree of
``3n - 2`` edges (:func:`tree_edges`): root -- lefthip_0, righthip_1, body_1; every hip -- its
ankle; body_k -- bodyupdown_k and the two hips of segment ``k``; body_k -- body_(k+1).
:func:`morphology_graph` stores them in both directions with no self-loops, and
:func:`node_types` gives each node one of the six types of :data:`NODE_TYPES` (the joint name
before its index), so the same type embeddings serve every ``n``.

The papers' sizes are registered as ``gnnrl_lite/Centipede-{n}-v0`` on import (:data:`REGISTERED_SIZES`);
:func:`make_centipede` builds any even ``n``. Rendering is not supported.

To reuse: copy this file and ``checks.py``; needs numpy, torch, dgl, gymnasium and, for the env,
mujoco (the graph functions work without it).

Version History
---------------
v0: NerveNet's Centipede, with the contact forces computed by ``mj_rnePostConstraint``.

References
----------
Wang, Liao, Ba & Fidler, *NerveNet: Learning Structured Policy with Graph Neural Networks*, ICLR 2018
(code: ``WilsonWangTHU/NerveNet``, ``environments/centipede_generator.py``,
``environments/transfer_env/centipede_env.py``, ``graph_util/mujoco_parser.py``).
Blake, Kurin, Igl & Whiteson, *Snowflake: Scaling GNNs to High-Dimensional Continuous Control via
Parameter Freezing*, NeurIPS 2021 (code: ``thecharlieblake/snowflake``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

import dgl

from ..checks import check_positive_int

mujoco = None  # an optional extra (pip install "gnnrl_lite[envs]"), imported by the first CentipedeEnv


def _require_mujoco():
    """Import MuJoCo on first use (about 0.2 s), so the graph functions work without it."""
    global mujoco
    if mujoco is None:
        try:
            import mujoco as _mujoco
        except ImportError as err:
            raise ImportError('CentipedeEnv needs MuJoCo: pip install mujoco (or pip install "gnnrl_lite[envs]")') from err
        mujoco = _mujoco
    return mujoco

__all__ = [
    "NODE_TYPES",
    "ROOT_DIM",
    "JOINT_DIM",
    "REGISTERED_SIZES",
    "centipede_dims",
    "centipede_xml",
    "joint_names",
    "actuator_names",
    "actuator_to_node",
    "node_to_actuator",
    "node_types",
    "tree_edges",
    "morphology_graph",
    "observation_index",
    "split_observation",
    "CentipedeEnv",
    "centipede_id",
    "register_centipede",
    "make_centipede",
]

NODE_TYPES = ("root", "lefthip", "righthip", "ankle", "body", "bodyupdown")
"""Node type names; :func:`node_types` gives each node the index of its name here."""
ROOT_DIM = 17
"""Features of the root node: z and quaternion (5), root velocity (6), torso_0's contact force (6)."""
JOINT_DIM = 8
"""Features of a joint node: angle (1), velocity (1), the contact force of the body it moves (6)."""
REGISTERED_SIZES = (4, 6, 8, 10, 12, 14, 18, 20, 24, 30, 40, 50, 100)
"""The even sizes of NerveNet and Snowflake, registered as ``gnnrl_lite/Centipede-{n}-v0`` on import."""


def _check_n(n) -> int:
    n = check_positive_int(n, "n (the number of legs)")
    if n < 4 or n % 2:
        raise ValueError(f"n (the number of legs) must be even and at least 4; got {n}")
    return n


def centipede_dims(n: int) -> dict[str, int]:
    """Sizes of Centipede-``n`` as functions of ``n``.

    ``nq = 3n + 5``, ``nv = 3n + 4``, ``action_dim = nu = 3n - 2``, ``nbody = 2.5n + 1`` (world
    included), ``obs_dim = (nq - 2) + nv + 6 nbody = 21n + 13``, ``num_nodes = 3n - 1``,
    ``num_edges = 2 (3n - 2)`` (directed).

    >>> centipede_dims(6)["obs_dim"], centipede_dims(6)["action_dim"]
    (139, 16)
    """
    n = _check_n(n)
    nbody = 5 * n // 2 + 1
    return {"nq": 3 * n + 5, "nv": 3 * n + 4, "action_dim": 3 * n - 2, "nbody": nbody, "obs_dim": 21 * n + 13,
            "num_nodes": 3 * n - 1, "num_edges": 2 * (3 * n - 2)}


def _hip(i: int) -> str:
    return f"{'lefthip' if i % 2 == 0 else 'righthip'}_{i}"


class _Layout(NamedTuple):
    joints: tuple[str, ...]  # actuated joints, MuJoCo joint order (= node order from 1)
    actuators: tuple[str, ...]  # actuated joints, NerveNet's actuator order
    joint_body: tuple[int, ...]  # MuJoCo body id moved by each joint
    edges: tuple[tuple[int, int], ...]  # tree edges (parent node, child node)


@lru_cache(maxsize=None)
def _layout(n: int) -> _Layout:
    joints, joint_body = [], []
    for k in range(n // 2):
        torso = 1 + 5 * k  # body ids: world 0, then torso_k, legbody, frontFoot, legbody, frontFoot per segment
        if k >= 1:
            joints += [f"body_{k}", f"bodyupdown_{k}"]
            joint_body += [torso, torso]
        for side, i in enumerate((2 * k, 2 * k + 1)):
            joints += [_hip(i), f"ankle_{i}"]
            joint_body += [torso + 1 + 2 * side, torso + 2 + 2 * side]
    actuators = []
    for i in range(n):
        actuators += [_hip(i), f"ankle_{i}"]
        if i % 2 == 1 and i >= 3:
            actuators += [f"body_{(i - 1) // 2}", f"bodyupdown_{(i - 1) // 2}"]
    node = {name: j + 1 for j, name in enumerate(joints)}
    edges = [(0, node["lefthip_0"]), (0, node["righthip_1"]), (0, node["body_1"])]
    edges += [(node[_hip(i)], node[f"ankle_{i}"]) for i in range(n)]
    for k in range(1, n // 2):
        edges += [(node[f"body_{k}"], node[name]) for name in (f"bodyupdown_{k}", _hip(2 * k), _hip(2 * k + 1))]
        if k + 1 < n // 2:
            edges.append((node[f"body_{k}"], node[f"body_{k + 1}"]))
    return _Layout(tuple(joints), tuple(actuators), tuple(joint_body), tuple(edges))


def joint_names(n: int) -> list[str]:
    """Names of the ``3n - 2`` actuated joints in MuJoCo's joint order; joint ``j`` is graph node ``j + 1``.

    >>> joint_names(4)[:6]
    ['lefthip_0', 'ankle_0', 'righthip_1', 'ankle_1', 'body_1', 'bodyupdown_1']
    """
    return list(_layout(_check_n(n)).joints)


def actuator_names(n: int) -> list[str]:
    """Names of the joints driven by the ``3n - 2`` actuators, in actuator (action) order.

    >>> actuator_names(4)[4:8]
    ['lefthip_2', 'ankle_2', 'righthip_3', 'ankle_3']
    """
    return list(_layout(_check_n(n)).actuators)


def actuator_to_node(n: int) -> np.ndarray:
    """Graph node of every actuator, shape ``(3n - 2,)``, a permutation of ``1 .. 3n - 2``.

    A graph policy's per-node outputs ``mu`` of shape ``(B, 3n - 1)`` become an action with
    ``mu[:, actuator_to_node(n)]`` of shape ``(B, 3n - 2)`` (NerveNet's ``output_list``).

    >>> actuator_to_node(4).tolist()
    [1, 2, 3, 4, 7, 8, 9, 10, 5, 6]
    """
    lay = _layout(_check_n(n))
    node = {name: j + 1 for j, name in enumerate(lay.joints)}
    return np.array([node[name] for name in lay.actuators], dtype=np.int64)


def node_to_actuator(n: int) -> np.ndarray:
    """Actuator of every graph node, shape ``(3n - 1,)``; ``-1`` for the root, which has none.

    The inverse of :func:`actuator_to_node`: ``node_to_actuator(n)[actuator_to_node(n)]`` is
    ``arange(3n - 2)``.
    """
    a2n = actuator_to_node(n)
    out = np.full(3 * n - 1, -1, dtype=np.int64)
    out[a2n] = np.arange(len(a2n))
    return out


def node_types(n: int) -> np.ndarray:
    """Type index (into :data:`NODE_TYPES`) of every node, shape ``(3n - 1,)``; 0 is the root.

    The type is the joint name before its index, so there are six types for every ``n``.

    >>> [NODE_TYPES[t] for t in node_types(4)[:7]]
    ['root', 'lefthip', 'ankle', 'righthip', 'ankle', 'body', 'bodyupdown']
    """
    names = ["root"] + [name.rsplit("_", 1)[0] for name in _layout(_check_n(n)).joints]
    return np.array([NODE_TYPES.index(t) for t in names], dtype=np.int64)


def tree_edges(n: int) -> np.ndarray:
    """The ``3n - 2`` undirected edges of the morphology tree, shape ``(3n - 2, 2)``, each once as (parent, child).

    >>> tree_edges(4)[:4].tolist()
    [[0, 1], [0, 3], [0, 5], [1, 2]]
    """
    return np.array(_layout(_check_n(n)).edges, dtype=np.int64)


def morphology_graph(n: int) -> dgl.DGLGraph:
    """NerveNet's graph of Centipede-``n`` as a ``DGLGraph``.

    Returns
    -------
    dgl.DGLGraph
        ``3n - 1`` nodes (0 the root, ``j + 1`` the ``j``-th joint of :func:`joint_names`) and
        ``2 (3n - 2)`` directed edges: the edges of :func:`tree_edges` parent -> child first, then
        the same edges child -> parent. No self-loops. ``g.ndata["type"]`` of shape ``(3n - 1,)``
        int64 holds :func:`node_types`.

    Examples
    --------
    >>> g = morphology_graph(6)
    >>> g.num_nodes(), g.num_edges()
    (17, 32)
    """
    edges = torch.as_tensor(tree_edges(n))  # (3n - 2, 2)
    src = torch.cat([edges[:, 0], edges[:, 1]])  # (2 (3n - 2),)
    dst = torch.cat([edges[:, 1], edges[:, 0]])
    g = dgl.graph((src, dst), num_nodes=3 * n - 1)
    g.ndata["type"] = torch.as_tensor(node_types(n))
    return g


def observation_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each node's features sit in the flat observation.

    Returns
    -------
    root : numpy.ndarray
        Shape ``(17,)``: ``[0, 5)``, ``[Q, Q + 6)`` and ``[C + 6, C + 12)`` with ``Q = 3n + 3``,
        ``C = 6n + 7`` (root qpos without x, y; root qvel; torso_0's contact force).
    joints : numpy.ndarray
        Shape ``(3n - 2, 8)``: row ``j`` is ``[5 + j, Q + 6 + j, C + 6b, ..., C + 6b + 5]`` with
        ``b`` the MuJoCo id of the body joint ``j`` moves.
    """
    n = _check_n(n)
    q, c = 3 * n + 3, 6 * n + 7
    root = np.r_[0:5, q : q + 6, c + 6 : c + 12].astype(np.int64)
    j = np.arange(3 * n - 2)
    body = np.array(_layout(n).joint_body, dtype=np.int64)
    joints = np.column_stack([5 + j, q + 6 + j, c + 6 * body[:, None] + np.arange(6)]).astype(np.int64)
    return root, joints


def split_observation(obs, n: int):
    """Per-node features from flat observations: the input of a graph policy.

    Parameters
    ----------
    obs : numpy.ndarray or torch.Tensor
        Shape ``(..., 21n + 13)``, e.g. a batch ``(B, 21n + 13)`` (normalise it first if you
        normalise observations, as NerveNet does).
    n : int
        Number of legs.

    Returns
    -------
    root : same type as ``obs``
        Shape ``(..., 17)``, the root node's features.
    joints : same type as ``obs``
        Shape ``(..., 3n - 2, 8)``; ``joints[..., j, :]`` belongs to node ``j + 1``.

    Raises
    ------
    ValueError
        If ``n`` is not even and at least 4, or the last axis of ``obs`` is not ``21n + 13``.

    Examples
    --------
    >>> root, joints = split_observation(torch.zeros(32, 139), 6)
    >>> tuple(root.shape), tuple(joints.shape)
    ((32, 17), (32, 16, 8))
    """
    root, joints = observation_index(n)
    width = 21 * n + 13
    if obs.ndim == 0 or obs.shape[-1] != width:
        raise ValueError(f"Centipede-{n} observations have shape (..., {width}) (21n + 13); got {tuple(obs.shape)}")
    if isinstance(obs, torch.Tensor):
        root, joints = torch.as_tensor(root, device=obs.device), torch.as_tensor(joints, device=obs.device)
    return obs[..., root], obs[..., joints]  # (..., 17), (..., 3n - 2, 8)


def centipede_xml(n: int) -> str:
    """The MJCF model of Centipede-``n`` as an XML string (NerveNet's generator, cosmetics left out)."""
    n = _check_n(n)

    def leg(i: int, pad: str) -> str:
        s = -1 if i % 2 == 0 else 1  # even legs on the left (-y), odd on the right (+y)
        return (
            f'{pad}<body name="legbody_{i}" pos="0 {0.28 * s:g} 0">\n'
            f'{pad}  <joint name="{_hip(i)}" type="hinge" pos="0 0 0" axis="0 0 1" range="-40 40"/>\n'
            f'{pad}  <geom name="thigh_{i}" type="capsule" fromto="0 0 0 0 {0.28 * s:g} 0" size="0.08"/>\n'
            f'{pad}  <body name="frontFoot_{i}" pos="0 {0.28 * s:g} 0">\n'
            f'{pad}    <joint name="ankle_{i}" type="hinge" pos="0 0 0" axis="{-s} 0 0" range="30 100"/>\n'
            f'{pad}    <geom name="shin_{i}" type="capsule" fromto="0 0 0 0 {0.6 * s:g} 0" size="0.08"/>\n'
            f"{pad}  </body>\n"
            f"{pad}</body>\n"
        )

    def torso(k: int) -> str:  # torso_k with its legs and, nested inside, torso_(k+1), ...
        pad = "    " + "  " * k
        if k == 0:
            pos = "0 0 0.75"
            joints = f'{pad}  <joint name="root" type="free" pos="0 0 0" armature="0" damping="0" limited="false"/>\n'
        else:
            pos = "0.5 0 0"
            joints = (
                f'{pad}  <joint name="body_{k}" type="hinge" pos="-0.25 0 0" axis="0 0 1" range="-20 20"/>\n'
                f'{pad}  <joint name="bodyupdown_{k}" type="hinge" pos="-0.25 0 0" axis="0 1 0" range="-10 30"/>\n'
            )
        inner = torso(k + 1) if k + 1 < n // 2 else ""
        return (
            f'{pad}<body name="torso_{k}" pos="{pos}">\n{joints}'
            f'{pad}  <geom name="torso_{k}_geom" type="sphere" pos="0 0 0" size="0.25" density="100"/>\n'
            f"{leg(2 * k, pad + '  ')}{leg(2 * k + 1, pad + '  ')}{inner}{pad}</body>\n"
        )

    gear = {"lefthip": 150, "righthip": 150, "ankle": 150, "body": 100, "bodyupdown": 100}
    motors = "".join(
        f'    <motor name="{name}" joint="{name}" gear="{gear[name.rsplit("_", 1)[0]]}" ctrllimited="true" ctrlrange="-1 1"/>\n'
        for name in _layout(n).actuators
    )
    return (
        f'<mujoco model="centipede_{n}">\n'
        '  <compiler angle="degree" coordinate="local" inertiafromgeom="true"/>\n'
        '  <option integrator="RK4" timestep="0.01"/>\n'
        "  <default>\n"
        '    <joint armature="1" damping="1" limited="true"/>\n'
        '    <geom conaffinity="0" condim="3" density="25" friction="1.5 0.1 0.1" margin="0.01"/>\n'
        "  </default>\n"
        "  <worldbody>\n"
        '    <geom name="floor" type="plane" pos="0 0 0" size="40 40 40" conaffinity="1" condim="3"/>\n'
        f"{torso(0)}"
        "  </worldbody>\n"
        f"  <actuator>\n{motors}  </actuator>\n"
        "</mujoco>\n"
    )


class CentipedeEnv(gym.Env):
    """Centipede-``n`` (NerveNet): walk along :math:`+x`; see the module docstring for the full specification.

    Attributes: ``model`` and ``data`` (MuJoCo), ``dt`` (0.05 s), ``observation_structure``
    (sizes of the observation's parts), ``is_healthy``.

    Examples
    --------
    >>> env = CentipedeEnv(6)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_space.shape
    ((139,), (16,))
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        n: int = 6,
        *,
        ctrl_cost_weight: float = 0.5,
        contact_cost_weight: float = 5e-4,
        healthy_reward: float = 1.0,
        healthy_z_range: tuple[float, float] = (0.35, 1.15),
        max_lateral_gap: float = 0.45,
        reset_noise_scale: float = 0.1,
        frame_skip: int = 5,
        max_episode_steps: int = 1000,
    ):
        _require_mujoco()
        self.n = _check_n(n)
        self.frame_skip = check_positive_int(frame_skip, "frame_skip")
        self.max_episode_steps = check_positive_int(max_episode_steps, "max_episode_steps")
        if not healthy_z_range[0] < healthy_z_range[1]:
            raise ValueError(f"healthy_z_range must be (low, high) with low < high; got {healthy_z_range}")
        if reset_noise_scale < 0 or ctrl_cost_weight < 0 or contact_cost_weight < 0 or max_lateral_gap <= 0:
            raise ValueError("reset_noise_scale, ctrl_cost_weight and contact_cost_weight must be >= 0 and max_lateral_gap > 0")
        self.c_ctrl = ctrl_cost_weight * 4 / n  # 0.5 * 4 / n in NerveNet
        self.c_contact = contact_cost_weight * 4 / n  # 0.5e-3 * 4 / n
        self.healthy_reward, self.healthy_z_range = float(healthy_reward), tuple(healthy_z_range)
        self.max_lateral_gap, self.reset_noise_scale = float(max_lateral_gap), float(reset_noise_scale)

        self.model = mujoco.MjModel.from_xml_string(centipede_xml(n))
        self.data = mujoco.MjData(self.model)
        self.dt = self.model.opt.timestep * self.frame_skip
        body = lambda name: mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name)  # noqa: E731
        self._torsos = np.array([body(f"torso_{k}") for k in range(n // 2)])  # (n/2,)
        # NerveNet's reset: the pitch joints get noise s / (n/2 - 1), but its index list ends with 5 (quaternion y)
        pitch = [self.model.jnt_qposadr[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, f"bodyupdown_{k}")] for k in range(1, n // 2)]
        self._small_noise_qpos = np.array(pitch[:-1] + [5], dtype=np.int64)
        self.init_qpos, self.init_qvel = self.model.qpos0.copy(), np.zeros(self.model.nv)

        low, high = self.model.actuator_ctrlrange.T.astype(np.float32)
        self.action_space = spaces.Box(low, high, dtype=np.float32)  # (3n - 2,)
        dims = centipede_dims(n)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(dims["obs_dim"],), dtype=np.float64)
        self.observation_structure = {"skipped_qpos": 2, "qpos": dims["nq"] - 2, "qvel": dims["nv"], "cfrc_ext": 6 * dims["nbody"]}
        self._steps = 0

    @property
    def is_healthy(self) -> bool:
        """Finite state, every torso centre in ``healthy_z_range``, consecutive torsos less than ``max_lateral_gap`` apart in y."""
        d = self.data
        if not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()):
            return False
        xyz = d.xpos[self._torsos]  # (n/2, 3)
        low, high = self.healthy_z_range
        return bool(((xyz[:, 2] > low) & (xyz[:, 2] < high)).all() and (np.abs(np.diff(xyz[:, 1])) < self.max_lateral_gap).all())

    def _contact_forces(self) -> np.ndarray:
        return np.clip(self.data.cfrc_ext, -1.0, 1.0).ravel()  # (6 nbody,)

    def _get_obs(self, contact: np.ndarray) -> np.ndarray:
        return np.concatenate([self.data.qpos[2:], self.data.qvel, contact])  # (21n + 13,)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        rng, s, m, d = self.np_random, self.reset_noise_scale, self.model, self.data
        small = s / (self.n // 2 - 1)
        for _ in range(1000):  # NerveNet redraws until healthy
            mujoco.mj_resetData(m, d)
            qpos = self.init_qpos + rng.uniform(-s, s, m.nq)
            qpos[self._small_noise_qpos] = rng.uniform(-small, small, len(self._small_noise_qpos))
            d.qpos[:] = qpos
            d.qvel[:] = self.init_qvel + s * rng.standard_normal(m.nv)
            mujoco.mj_forward(m, d)
            if self.is_healthy:
                break
        else:  # pragma: no cover - needs an absurd reset_noise_scale
            raise RuntimeError(f"no healthy start state in 1000 draws with reset_noise_scale={s}")
        mujoco.mj_rnePostConstraint(m, d)  # fills cfrc_ext (zero otherwise in modern MuJoCo)
        self._steps = 0
        return self._get_obs(self._contact_forces()), {"x_position": float(d.xpos[self._torsos[-1], 0])}

    def step(self, action):
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape} (3n - 2); got {action.shape}")
        m, d = self.model, self.data
        x_before = d.xpos[self._torsos[-1], 0]
        d.ctrl[:] = action  # MuJoCo clamps to ctrlrange
        mujoco.mj_step(m, d, nstep=self.frame_skip)
        mujoco.mj_rnePostConstraint(m, d)  # real contact forces in cfrc_ext
        x_after = d.xpos[self._torsos[-1], 0]
        self._steps += 1

        contact = self._contact_forces()  # (6 nbody,)
        x_velocity = (x_after - x_before) / self.dt
        ctrl_cost = self.c_ctrl * float(np.square(action).sum())
        contact_cost = self.c_contact * float(np.square(contact).sum())
        reward = x_velocity - ctrl_cost - contact_cost + self.healthy_reward
        info = {
            "reward_forward": float(x_velocity),
            "reward_ctrl": -ctrl_cost,
            "reward_contact": -contact_cost,
            "reward_survive": self.healthy_reward,
            "x_position": float(x_after),
            "x_velocity": float(x_velocity),
        }
        terminated = not self.is_healthy
        truncated = not terminated and self._steps >= self.max_episode_steps
        return self._get_obs(contact), float(reward), terminated, truncated, info


def centipede_id(n: int) -> str:
    """The Gymnasium id of Centipede-``n``: ``"gnnrl_lite/Centipede-{n}-v0"``."""
    return f"gnnrl_lite/Centipede-{_check_n(n)}-v0"


def register_centipede(n: int) -> str:
    """Register Centipede-``n`` with Gymnasium (once; later calls do nothing) and return its id."""
    env_id = centipede_id(n)
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=f"{__name__}:CentipedeEnv", kwargs={"n": n}, reward_threshold=6000.0)
    return env_id


def make_centipede(n: int, **kwargs) -> gym.Env:
    """``gymnasium.make`` Centipede-``n`` for any even ``n >= 4`` (registered on demand).

    ``kwargs`` go to :func:`gymnasium.make` and from there to :class:`CentipedeEnv`
    (e.g. ``ctrl_cost_weight``); ``env.unwrapped`` is the :class:`CentipedeEnv`.
    """
    return gym.make(register_centipede(n), **kwargs)


for _n in REGISTERED_SIZES:
    register_centipede(_n)
