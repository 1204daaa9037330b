"""Centipede-n (NerveNet's morphology): model sizes and physics vs the reference, Gymnasium API,
reward terms, termination, reset noise, and the morphology graph with its observation split."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from gnnrl_lite.envs import centipede as cp
from gnnrl_lite.envs.centipede import (
    JOINT_DIM,
    NODE_TYPES,
    REGISTERED_SIZES,
    ROOT_DIM,
    CentipedeEnv,
    actuator_names,
    actuator_to_node,
    centipede_dims,
    centipede_id,
    centipede_xml,
    joint_names,
    make_centipede,
    morphology_graph,
    node_to_actuator,
    node_types,
    observation_index,
    register_centipede,
    split_observation,
    tree_edges,
)

mujoco = pytest.importorskip("mujoco")

# NerveNet/Snowflake sizes measured on the repositories' XMLs (REFERENCE 1.1): n -> (nq, nv, nu, nbody, obs_dim)
REFERENCE_SIZES = {
    4: (17, 16, 10, 11, 97),
    6: (23, 22, 16, 16, 139),
    8: (29, 28, 22, 21, 181),
    10: (35, 34, 28, 26, 223),
    12: (41, 40, 34, 31, 265),
    14: (47, 46, 40, 36, 307),
    18: (59, 58, 52, 46, 391),
    20: (65, 64, 58, 51, 433),
    24: (77, 76, 70, 61, 517),
}


def _model(n: int):
    return mujoco.MjModel.from_xml_string(centipede_xml(n))


def _names(model, kind, count) -> list[str]:
    return [mujoco.mj_id2name(model, kind, i) for i in range(count)]


def _run(env: CentipedeEnv, steps: int, action=None, seed: int = 0):
    """Step ``env`` from ``reset(seed)`` with zero (or the given) actions; return the list of step results."""
    env.reset(seed=seed)
    a = np.zeros(env.action_space.shape) if action is None else action
    return [env.step(a) for _ in range(steps)]


@pytest.mark.parametrize("n", sorted(REFERENCE_SIZES))
def test_sizes_match_reference_table_and_formulas(n):
    """nq, nv, nu, nbody and the observation size equal the reference table, the formulas and the compiled model."""
    nq, nv, nu, nbody, obs_dim = REFERENCE_SIZES[n]
    dims = centipede_dims(n)
    assert (dims["nq"], dims["nv"], dims["action_dim"], dims["nbody"], dims["obs_dim"]) == REFERENCE_SIZES[n], "centipede_dims vs REFERENCE"
    assert obs_dim == 21 * n + 13 == (nq - 2) + nv + 6 * nbody and nu == 3 * n - 2, "reference table vs its formulas"
    m = _model(n)
    assert (m.nq, m.nv, m.nu, m.nbody) == (nq, nv, nu, nbody), "compiled model sizes"
    assert dims["num_nodes"] == 3 * n - 1 and dims["num_edges"] == 2 * (3 * n - 2)


def test_model_physics_match_nervenet():
    """Integrator, timestep, gears, joint ranges and defaults, masses and collision filters of Centipede-6."""
    m = _model(6)
    assert m.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4 and m.opt.timestep == pytest.approx(0.01)
    assert m.body_mass.sum() == pytest.approx(22.93, abs=0.01), "total mass (REFERENCE 1.1)"
    assert m.body_mass[1] == pytest.approx(6.545, abs=1e-3), "torso sphere r=0.25, density 100"
    gears = {name: m.actuator_gear[i, 0] for i, name in enumerate(_names(m, mujoco.mjtObj.mjOBJ_ACTUATOR, m.nu))}
    assert all(g == (100 if name.startswith("body") else 150) for name, g in gears.items()), "gear 150 legs, 100 body joints"
    assert (m.actuator_ctrlrange == [-1, 1]).all() and m.actuator_ctrllimited.all()
    ranges = {"lefthip": (-40, 40), "righthip": (-40, 40), "ankle": (30, 100), "body": (-20, 20), "bodyupdown": (-10, 30)}
    for j, name in enumerate(_names(m, mujoco.mjtObj.mjOBJ_JOINT, m.njnt)):
        if j == 0:
            assert m.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE and m.dof_armature[0] == 0 and m.dof_damping[0] == 0
            continue
        np.testing.assert_allclose(np.degrees(m.jnt_range[j]), ranges[name.rsplit("_", 1)[0]], err_msg=name)
        assert m.jnt_limited[j] and m.dof_armature[m.jnt_dofadr[j]] == 1 and m.dof_damping[m.jnt_dofadr[j]] == 1
    assert m.geom_conaffinity[0] == 1 and (m.geom_conaffinity[1:] == 0).all() and (m.geom_contype == 1).all(), "no self-collision"
    torso_geoms = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, f"torso_{k}_geom") for k in range(3)]
    assert torso_geoms == [1, 6, 11], "torso geom ids 1 + 5k"


@pytest.mark.parametrize("n", [4, 6, 10])
def test_joint_and_actuator_names_match_the_model(n):
    """joint_names is MuJoCo's joint order (after root); actuator_names is the motors' order; the map uses the model's."""
    m = _model(n)
    assert _names(m, mujoco.mjtObj.mjOBJ_JOINT, m.njnt) == ["root"] + joint_names(n), "node j+1 = MuJoCo joint j+1"
    assert _names(m, mujoco.mjtObj.mjOBJ_ACTUATOR, m.nu) == actuator_names(n)
    np.testing.assert_array_equal(actuator_to_node(n), m.actuator_trnid[:, 0], err_msg="actuator -> node = driven joint id")


def test_actuator_order_is_nervenets():
    """The n = 6 actuator order given in the reference."""
    assert actuator_names(6) == [
        "lefthip_0", "ankle_0", "righthip_1", "ankle_1", "lefthip_2", "ankle_2", "righthip_3", "ankle_3",
        "body_1", "bodyupdown_1", "lefthip_4", "ankle_4", "righthip_5", "ankle_5", "body_2", "bodyupdown_2",
    ]  # fmt: skip


@pytest.mark.parametrize("n", [4, 6, 8, 20, 40])
def test_actuator_node_map_is_a_bijection_onto_joint_nodes(n):
    """actuator_to_node is a permutation of 1..3n-2 (never the root) and node_to_actuator is its inverse."""
    a2n, n2a = actuator_to_node(n), node_to_actuator(n)
    assert a2n.shape == (3 * n - 2,) and n2a.shape == (3 * n - 1,)
    np.testing.assert_array_equal(np.sort(a2n), np.arange(1, 3 * n - 1), err_msg="bijection onto the joint nodes")
    assert n2a[0] == -1, "the root drives no actuator"
    np.testing.assert_array_equal(n2a[a2n], np.arange(3 * n - 2), err_msg="inverse maps")
    assert [joint_names(n)[v - 1] for v in a2n] == actuator_names(n), "node of each actuator is its joint"
    assert not np.array_equal(a2n, np.arange(1, 3 * n - 1)), "actuator order differs from node order"


@pytest.mark.parametrize("n", [4, 6, 8, 12, 40])
def test_morphology_graph_is_a_bidirected_tree(n):
    """3n-1 nodes, 2(3n-2) edges, symmetric, no self-loops, connected tree; node types stored in ndata."""
    g = morphology_graph(n)
    assert g.num_nodes() == 3 * n - 1 and g.num_edges() == 2 * (3 * n - 2), "node and edge counts"
    u, v = (t.tolist() for t in g.edges())
    pairs = list(zip(u, v))
    assert all(a != b for a, b in pairs), "no self-loops"
    assert set(pairs) == {(b, a) for a, b in pairs} and len(set(pairs)) == len(pairs), "each edge once per direction"
    assert nx.is_tree(nx.Graph(pairs)), "the undirected graph is a tree on all nodes"
    np.testing.assert_array_equal(g.ndata["type"].numpy(), node_types(n))
    assert pairs[: 3 * n - 2] == [tuple(e) for e in tree_edges(n).tolist()], "parent -> child edges first"


def test_tree_edges_n4_match_reference_example():
    """The n = 4 edge list of the reference: root-lh0, root-rh1, root-body1, lh0-a0, rh1-a1, body1-bud1, body1-lh2, body1-rh3, lh2-a2, rh3-a3."""
    name = ["root"] + joint_names(4)
    got = {frozenset((name[a], name[b])) for a, b in tree_edges(4)}
    want = [("root", "lefthip_0"), ("root", "righthip_1"), ("root", "body_1"), ("lefthip_0", "ankle_0"), ("righthip_1", "ankle_1"),
            ("body_1", "bodyupdown_1"), ("body_1", "lefthip_2"), ("body_1", "righthip_3"), ("lefthip_2", "ankle_2"), ("righthip_3", "ankle_3")]  # fmt: skip
    assert got == {frozenset(e) for e in want}


@pytest.mark.parametrize("n", [4, 6, 12])
def test_tree_edges_follow_nervenets_pruning_rules_on_the_model(n):
    """Re-derive the edges from the compiled body tree with NerveNet's three rules (REFERENCE 1.3); node = joint id."""
    m = _model(n)
    first = lambda b: int(m.body_jntadr[b])  # noqa: E731  first joint of body b (-1: none)
    edges = set()
    for j in range(1, m.njnt):
        b = int(m.jnt_bodyid[j])
        if first(b) != j:  # rule 1: a later joint of a body links to the body's first joint only
            edges.add(frozenset((j, first(b))))
            continue
        neighbours = [int(m.body_parentid[b])] + [c for c in range(1, m.nbody) if m.body_parentid[c] == b]
        edges |= {frozenset((j, first(c))) for c in neighbours if first(c) >= 0}  # rule 2
        if m.body_parentid[b] == m.jnt_bodyid[0]:  # rule 3: child of the root body
            edges.add(frozenset((j, 0)))
    assert edges == {frozenset(e) for e in tree_edges(n).tolist()}


def test_node_types_are_the_six_name_prefixes():
    """Root is type 0; every joint's type is its name before the index; six types for any n."""
    for n in (4, 6, 40):
        t = node_types(n)
        assert t.shape == (3 * n - 1,) and t[0] == NODE_TYPES.index("root") and (t[1:] != 0).all()
        assert [NODE_TYPES[i] for i in t[1:]] == [name.rsplit("_", 1)[0] for name in joint_names(n)]
    assert set(node_types(6).tolist()) == set(range(len(NODE_TYPES))) == set(range(6))


@pytest.mark.parametrize("n", [4, 8])
def test_split_observation_matches_mujoco_state(n):
    """Root and joint features equal qpos, qvel and the clipped cfrc_ext of the right bodies, read from MuJoCo by name."""
    env = CentipedeEnv(n)
    obs, *_ = _run(env, 8)[-1]
    m, d = env.model, env.data
    cfrc = np.clip(d.cfrc_ext, -1, 1)
    root, joints = split_observation(obs, n)
    assert root.shape == (ROOT_DIM,) and joints.shape == (3 * n - 2, JOINT_DIM)
    np.testing.assert_array_equal(root, np.concatenate([d.qpos[2:7], d.qvel[:6], cfrc[m.body("torso_0").id]]))
    parent = {"lefthip": "legbody", "righthip": "legbody", "ankle": "frontFoot", "body": "torso", "bodyupdown": "torso"}
    for j, name in enumerate(joint_names(n)):
        kind, idx = name.rsplit("_", 1)
        jnt = m.joint(name)
        want = np.concatenate([[d.qpos[jnt.qposadr[0]], d.qvel[jnt.dofadr[0]]], cfrc[m.body(f"{parent[kind]}_{idx}").id]])
        np.testing.assert_array_equal(joints[j], want, err_msg=f"features of {name}")
    assert np.abs(joints[:, 2:]).sum() > 0, "some leg touches the ground: contact features are non-zero"


@pytest.mark.parametrize("n", [4, 6, 20])
def test_split_observation_covers_the_observation_and_batches(n):
    """Every entry except the world body's 6 forces goes to some node; numpy and torch batches agree with single rows."""
    root_idx, joint_idx = observation_index(n)
    width, c = 21 * n + 13, 6 * n + 7
    used = set(root_idx.tolist()) | set(joint_idx.ravel().tolist())
    assert used == set(range(width)) - set(range(c, c + 6)), "all but the world's cfrc_ext"
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((5, width))
    root, joints = split_observation(batch, n)
    assert root.shape == (5, ROOT_DIM) and joints.shape == (5, 3 * n - 2, JOINT_DIM)
    rebuilt = np.zeros_like(batch)  # scatter the node features back into the flat layout
    rebuilt[:, root_idx], rebuilt[:, joint_idx] = root, joints
    rebuilt[:, c : c + 6] = batch[:, c : c + 6]
    np.testing.assert_array_equal(rebuilt, batch, err_msg="reassembling the node features gives the observation back")
    t_root, t_joints = split_observation(torch.as_tensor(batch, dtype=torch.float32), n)
    assert isinstance(t_root, torch.Tensor) and t_joints.shape == (5, 3 * n - 2, JOINT_DIM)
    torch.testing.assert_close(t_joints, torch.as_tensor(joints, dtype=torch.float32))
    np.testing.assert_array_equal(split_observation(batch[2], n)[1], joints[2])


@pytest.mark.parametrize("n", [4, 6, 8, 12, 20])
def test_passes_check_env(n):
    """CentipedeEnv passes Gymnasium's env checker; the only warnings are the usual ones about an unbounded Box."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(CentipedeEnv(n), skip_render_check=True)
    other = [str(w.message) for w in caught if "infinity" not in str(w.message)]
    assert not other, other


def test_centipede_40_builds_steps_and_stays_finite():
    """n = 40 has the right spaces and stays finite under random actions (resetting when it falls)."""
    env = CentipedeEnv(40)
    assert env.observation_space.shape == (853,) and env.action_space.shape == (118,)
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    for _ in range(60):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(obs).all() and np.isfinite(reward) and env.observation_space.contains(obs)
        if terminated or truncated:
            obs, _ = env.reset()


@pytest.mark.parametrize("n", [4, 12])
def test_reward_terms_sum_to_reward_and_follow_their_formulas(n):
    """reward = forward + ctrl + contact + survive, each term as in NerveNet (costs scaled by 4/n, raw action)."""
    env = CentipedeEnv(n)
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(15):
        action = 1.5 * rng.standard_normal(3 * n - 2)  # beyond [-1, 1]: the cost uses the raw action
        x_before = env.data.body(f"torso_{n // 2 - 1}").xpos[0]
        obs, reward, terminated, _, info = env.step(action)
        terms = [info[k] for k in ("reward_forward", "reward_ctrl", "reward_contact", "reward_survive")]
        assert reward == pytest.approx(sum(terms), abs=1e-12), "reward terms sum to the reward"
        assert info["reward_ctrl"] == pytest.approx(-0.5 * 4 / n * np.sum(action**2))
        contact = obs[6 * n + 7 :]
        assert info["reward_contact"] == pytest.approx(-0.5e-3 * 4 / n * np.sum(contact**2))
        assert info["reward_forward"] == pytest.approx((info["x_position"] - x_before) / 0.05)
        assert info["reward_survive"] == 1.0
        if terminated:
            break
    np.testing.assert_allclose(env.data.actuator_force, np.clip(action, -1, 1), err_msg="MuJoCo clamps the control")


def test_contact_forces_are_real():
    """With mj_rnePostConstraint the legs' ground contacts give non-zero cfrc_ext and a contact cost."""
    env = CentipedeEnv(6)
    obs, _, _, _, info = _run(env, 10)[-1]
    assert np.abs(obs[6 * 6 + 7 :]).sum() > 0 and info["reward_contact"] < 0, "contact forces in obs and cost"
    assert env.data.ncon > 0


def test_settles_like_the_reference_at_rest():
    """Zero control, no reset noise: the body settles near z = 0.68 with the ankles near 75.7 deg (REFERENCE, n = 6)."""
    env = CentipedeEnv(6, reset_noise_scale=0.0)
    results = _run(env, 100)
    assert not any(r[2] or r[3] for r in results), "a resting centipede is healthy"
    assert env.data.qpos[2] == pytest.approx(0.68, abs=0.01)
    ankles = [env.model.joint(f"ankle_{i}").qposadr[0] for i in range(6)]
    np.testing.assert_allclose(np.degrees(env.data.qpos[ankles]), 75.7, atol=1.0)


def test_termination_on_height_and_sideways_drift():
    """Unhealthy when a torso is too high or too low, or two consecutive torsos drift apart in y; step reports it."""
    env = CentipedeEnv(6)
    env.reset(seed=0)
    m, d = env.model, env.data
    assert env.is_healthy
    start = d.qpos.copy()
    for z, healthy in ((0.3, False), (1.2, False), (0.7, True)):
        d.qpos[:] = start
        d.qpos[:7] = [0, 0, z, 1, 0, 0, 0]
        mujoco.mj_forward(m, d)
        assert env.is_healthy == healthy, f"root z = {z}"
    d.qpos[:] = start
    d.qpos[m.joint("body_1").qposadr[0]] = 1.2  # yaw: 0.5 sin(1.2) = 0.466 > 0.45
    mujoco.mj_forward(m, d)
    assert not env.is_healthy, "sideways drift"
    d.qpos[:] = start
    d.qpos[2] += 1.0  # high above the floor: still too high after one step
    mujoco.mj_forward(m, d)
    *_, terminated, truncated, _ = env.step(np.zeros(16))
    assert terminated and not truncated
    d.qpos[m.joint("root").qposadr[0] + 2] = np.nan
    assert not env.is_healthy, "a non-finite state is unhealthy"


def test_truncation_after_max_episode_steps():
    """Truncated (not terminated) exactly at max_episode_steps; the default is 1000."""
    assert CentipedeEnv(4).max_episode_steps == 1000
    results = _run(CentipedeEnv(4, max_episode_steps=5), 5)
    assert [r[3] for r in results] == [False] * 4 + [True] and not any(r[2] for r in results)


def test_reset_noise_follows_nervenet():
    """Seeded resets are reproducible; noise U(-0.1, 0.1), except the small-noise entries (pitch joints but the last, and qpos[5])."""
    env = CentipedeEnv(8)  # 4 segments: bodyupdown_1..3 at qpos 12, 18, 24
    obs_a, _ = env.reset(seed=3)
    obs_b, _ = env.reset(seed=3)
    np.testing.assert_array_equal(obs_a, obs_b, err_msg="same seed, same start")
    for seed in range(10):
        env.reset(seed=seed)
        noise = env.data.qpos - env.model.qpos0
        assert np.abs(noise).max() <= 0.1 and env.is_healthy
        small = [12, 18, 5]
        assert np.abs(noise[small]).max() <= 0.1 / 3, "small pitch noise s / (n/2 - 1)"
        assert np.abs(env.data.qvel).max() < 1.0
    assert env.model.joint("bodyupdown_3").qposadr[0] == 24 and env.model.joint("bodyupdown_1").qposadr[0] == 12


def test_reset_observation_has_contact_forces_computed():
    """The reset observation's cfrc_ext is what mj_rnePostConstraint gives (zero: nothing touches at the start)."""
    env = CentipedeEnv(6)
    obs, info = env.reset(seed=0)
    assert obs.shape == (139,) and obs.dtype == np.float64 and "x_position" in info
    np.testing.assert_array_equal(obs[6 * 6 + 7 :], np.clip(env.data.cfrc_ext, -1, 1).ravel())


def test_registration_and_make():
    """Common sizes are registered idempotently; make_centipede builds any even n through gymnasium.make."""
    for n in (4, 6, 8, 10, 12, 20, 40):
        assert n in REGISTERED_SIZES and centipede_id(n) in gym.registry
    assert register_centipede(6) == "gnnrl_lite/Centipede-6-v0" == register_centipede(6)
    env = gym.make("gnnrl_lite/Centipede-6-v0")
    assert isinstance(env.unwrapped, CentipedeEnv) and env.unwrapped.n == 6
    env = make_centipede(16, ctrl_cost_weight=0.0)
    assert env.spec.id == "gnnrl_lite/Centipede-16-v0" and env.unwrapped.c_ctrl == 0.0
    assert env.observation_space.shape == (21 * 16 + 13,)


@pytest.mark.parametrize("bad", [3, 5, 2, 0, -4])
def test_bad_n_raises_value_error(bad):
    """Odd n, n < 4 and non-positive n raise a ValueError that names n, from every public function taking n."""
    fns = [centipede_dims, centipede_xml, joint_names, actuator_names, actuator_to_node, node_to_actuator, node_types,
           tree_edges, morphology_graph, observation_index, centipede_id, register_centipede, CentipedeEnv]  # fmt: skip
    for fn in fns:
        with pytest.raises(ValueError, match=r"n \(the number of legs\)"):
            fn(bad)
    with pytest.raises(ValueError, match=r"n \(the number of legs\)"):
        split_observation(np.zeros(21 * 6 + 13), bad)
    with pytest.raises(TypeError):
        joint_names(6.0)


def test_bad_observation_width_and_action_shape_raise():
    """A flat observation of the wrong width, or an action of the wrong shape, raises a clear ValueError."""
    with pytest.raises(ValueError, match="21n"):
        split_observation(np.zeros((4, 100)), 4)
    with pytest.raises(ValueError, match="21n"):
        split_observation(torch.zeros(139), 4)
    env = CentipedeEnv(4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(16))
    with pytest.raises(ValueError, match="healthy_z_range"):
        CentipedeEnv(4, healthy_z_range=(1.0, 0.5))


def test_missing_mujoco_gives_an_actionable_error(monkeypatch):
    """Without mujoco, CentipedeEnv raises ImportError naming the install command; the graph functions still work."""
    monkeypatch.setattr(cp, "mujoco", None)
    monkeypatch.setitem(sys.modules, "mujoco", None)
    with pytest.raises(ImportError, match="pip install"):
        CentipedeEnv(4)
    assert morphology_graph(4).num_nodes() == 11


def test_envs_package_imports_without_mujoco():
    """``import gnnrl_lite.envs`` works (and registers the ids) when mujoco is not installed."""
    code = (
        "import sys; sys.modules['mujoco'] = None\n"
        "import gnnrl_lite.envs as e, gymnasium as gym\n"
        "assert 'gnnrl_lite/Centipede-6-v0' in gym.registry and e.CentipedeEnv\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
