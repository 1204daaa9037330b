r"""Pictures of Centipede-n: a rendered frame where OpenGL is available, and its morphology graph drawn on the body.

- :func:`morphology_positions` places every node of :func:`~gnnrl_lite.envs.centipede.morphology_graph`
  where it sits on the body at rest: the root at the first torso's centre, every joint node at its
  joint's anchor in world coordinates (``data.xanchor``), shape ``(3n - 1, 3)``.
- :func:`draw_morphology` draws the graph from above (the x-y plane): tree edges as lines, nodes
  coloured by type (:data:`~gnnrl_lite.envs.centipede.NODE_TYPES`), the root larger. It needs only
  matplotlib and MuJoCo (no OpenGL), so it always works; this is the figure's fallback.
- :func:`render` returns an RGB frame from MuJoCo's offscreen renderer (the body standing, a few
  zero-control steps after a reset), or ``None`` when no OpenGL
  backend can be created (a CPU machine without OSMesa or EGL). Set ``MUJOCO_GL=osmesa`` (with
  ``PYOPENGL_PLATFORM=osmesa``) or ``MUJOCO_GL=egl`` before MuJoCo is first imported to choose one.
"""

from __future__ import annotations

import warnings

import numpy as np

from .centipede import NODE_TYPES, CentipedeEnv, joint_names, node_types, tree_edges

__all__ = ["morphology_positions", "draw_morphology", "render"]

_COLOURS = ("black", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")  # one per NODE_TYPES entry


def morphology_positions(n: int) -> np.ndarray:
    """World positions ``(3n - 1, 3)`` of the graph's nodes at the model's rest pose (``qpos0``).

    Node 0 (the root) is at torso_0's centre; node ``j + 1`` at the anchor of joint
    ``joint_names(n)[j]``.
    """
    import mujoco

    env = CentipedeEnv(n)
    mujoco.mj_forward(env.model, env.data)  # the rest pose qpos0, no noise
    joint_id = [mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_JOINT, name) for name in joint_names(n)]
    torso = mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_BODY, "torso_0")
    return np.vstack([env.data.xpos[torso][None], env.data.xanchor[joint_id]]).copy()


def draw_morphology(ax, n: int, positions: np.ndarray | None = None, *, legend: bool = True, title: str | None = None):
    """Draw Centipede-``n``'s morphology graph from above on ``ax``; returns ``ax``.

    Joints of one leg or one torso link sit close together on the body, so nodes that share a
    position are spread slightly along the body axis to keep every node visible.
    """
    pos = morphology_positions(n) if positions is None else np.asarray(positions, dtype=float)
    if pos.shape != (3 * n - 1, 3):
        raise ValueError(f"positions must have shape ({3 * n - 1}, 3) for Centipede-{n}; got {pos.shape}")
    xy = pos[:, :2].copy()
    _, first, counts = np.unique(np.round(xy, 3), axis=0, return_index=True, return_counts=True)
    for i in np.flatnonzero(counts > 1):  # spread coincident nodes (e.g. body_k and bodyupdown_k) along x
        same = np.flatnonzero((np.round(xy, 3) == np.round(xy[first[i]], 3)).all(axis=1))
        xy[same, 0] += np.linspace(-0.06, 0.06, len(same))
    for u, v in tree_edges(n):
        ax.plot(xy[[u, v], 0], xy[[u, v], 1], color="0.6", lw=1.2, zorder=1)
    types = node_types(n)
    for t, name in enumerate(NODE_TYPES):
        nodes = np.flatnonzero(types == t)
        ax.scatter(xy[nodes, 0], xy[nodes, 1], s=90 if t == 0 else 40, color=_COLOURS[t], label=name, zorder=2,
                   edgecolors="white", linewidths=0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x (forward)")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else f"Centipede-{n}: {3 * n - 1} nodes, {3 * n - 2} edges")
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def render(n: int, width: int = 320, height: int = 240, seed: int = 0, settle_steps: int = 30) -> np.ndarray | None:
    """An RGB frame ``(height, width, 3)`` of Centipede-``n``, or ``None`` if no OpenGL context can be made.

    The frame is taken ``settle_steps`` zero-control steps after a reset: the reset pose has the
    ankles at 0 degrees, outside their [30, 100] degree range, so the shins lie flat until the joint
    limits and gravity have moved them (30 steps, 1.5 simulated seconds, leave the body standing).
    """
    import mujoco

    if isinstance(settle_steps, bool) or not isinstance(settle_steps, (int, np.integer)) or settle_steps < 0:
        raise ValueError(f"settle_steps must be an integer >= 0 (zero-control steps before the frame); got {settle_steps!r}")
    env = CentipedeEnv(n)
    env.reset(seed=seed)
    for _ in range(settle_steps):
        env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    try:
        with warnings.catch_warnings():  # GLFW warns about a missing display before failing
            warnings.simplefilter("ignore")
            renderer = mujoco.Renderer(env.model, height, width)
    except Exception:  # no OpenGL backend on this machine: the caller falls back to draw_morphology
        return None
    model = env.model  # colours and light for the picture only (this env is thrown away; dynamics do not use them)
    model.geom_rgba[:] = (0.85, 0.55, 0.25, 1.0)
    model.geom_rgba[0] = (0.55, 0.6, 0.65, 1.0)  # the floor
    model.vis.headlight.ambient[:] = 0.35
    model.vis.headlight.diffuse[:] = 0.75
    try:
        camera = mujoco.MjvCamera()
        mujoco.mjv_defaultFreeCamera(env.model, camera)
        camera.lookat[:] = env.data.xpos[env._torsos].mean(axis=0)  # the middle of the body
        camera.distance, camera.elevation, camera.azimuth = 1.5 + 0.3 * n, -25.0, 120.0
        renderer.update_scene(env.data, camera)
        return renderer.render().copy()
    finally:
        renderer.close()
