"""Tests for gnnrl_lite.nervenet: NerveNet's GRU cell, the policy's shapes on every Centipede size, its
structure (symmetry, receptive field, batch independence), log-std transfer, Snowflake freezing and a
PPO smoke test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from gnnrl_lite.envs.centipede import NODE_TYPES, actuator_names, joint_names, morphology_graph, node_types, observation_index, tree_edges
from gnnrl_lite.envs.rooms import bfs_distances
from gnnrl_lite.nervenet import (
    FREEZABLE_PARTS,
    SNOWFLAKE_PARTS,
    NerveNetActorCritic,
    NerveNetGRUCell,
    _batched_graph,
    centipede_legs,
    freeze,
)
from gnnrl_lite.policies import MLPActorCritic


def _obs(n: int, batch: int = 3) -> torch.Tensor:
    return torch.randn(batch, 21 * n + 13)


def _swap_joints(obs: torch.Tensor, n: int, pairs) -> torch.Tensor:
    """Swap the 8 observation numbers of each pair of joints (by name); returns a copy."""
    _, joints = observation_index(n)
    j = {name: i for i, name in enumerate(joint_names(n))}
    out = obs.clone()
    for a, b in pairs:
        ia, ib = torch.as_tensor(joints[j[a]]), torch.as_tensor(joints[j[b]])
        out[:, ia], out[:, ib] = obs[:, ib], obs[:, ia]
    return out


def _leg_pairs(k: int):
    """The joints of leg 2k and leg 2k+1 (left and right leg of torso segment k), paired."""
    return [(f"lefthip_{2 * k}", f"righthip_{2 * k + 1}"), (f"ankle_{2 * k}", f"ankle_{2 * k + 1}")]


# ---------------------------------------------------------------- sizes and the GRU cell


@pytest.mark.parametrize("n", [4, 6, 40])
def test_centipede_legs_inverts_obs_dim(n):
    """centipede_legs(21n + 13) == n."""
    assert centipede_legs(21 * n + 13) == n, "the width 21n + 13 must give back n"


@pytest.mark.parametrize("width", [96, 100, 21 * 5 + 13, 21 * 2 + 13, 13, 0])
def test_centipede_legs_rejects_bad_widths(width):
    """Widths that are not 21n + 13 with n even and >= 4 raise a ValueError naming the rule."""
    with pytest.raises(ValueError, match="21n \\+ 13"):
        centipede_legs(width)


def test_gru_cell_matches_dense_formula():
    """NerveNetGRUCell equals z*h + (1-z)*tanh(W_h m + U_h (r*h) + b_h) written out with its parameter blocks."""
    cell = NerveNetGRUCell(5, 4)
    with torch.no_grad():
        cell.bias.normal_()
    m, h = torch.randn(7, 5), torch.randn(7, 4)
    Wz, Wr, Wh = cell.weight_m.split(4)
    Uz, Ur, Uh = cell.weight_h.split(4)
    bz, br, bh = cell.bias.split(4)
    z = torch.sigmoid(m @ Wz.T + h @ Uz.T + bz)
    r = torch.sigmoid(m @ Wr.T + h @ Ur.T + br)
    h_tilde = torch.tanh(m @ Wh.T + (r * h) @ Uh.T + bh)
    torch.testing.assert_close(cell(m, h), z * h + (1 - z) * h_tilde, msg="the cell must follow NerveNet's GRU equations")


def _torch_cell_like(cell: NerveNetGRUCell) -> nn.GRUCell:
    """A torch.nn.GRUCell with the same W, U and b (PyTorch orders the gate blocks r, z, n and has b_hh = 0 here)."""
    H = cell.hidden_dim
    ref = nn.GRUCell(cell.input_dim, H)
    zr = lambda w: torch.cat([w[H:2 * H], w[:H], w[2 * H:]])  # noqa: E731  (z, r, h) -> (r, z, n)
    with torch.no_grad():
        ref.weight_ih.copy_(zr(cell.weight_m))
        ref.weight_hh.copy_(zr(cell.weight_h))
        ref.bias_ih.copy_(zr(cell.bias))
        ref.bias_hh.zero_()
    return ref


def test_gru_cell_differs_from_torch_grucell_only_by_reset_placement():
    """With a diagonal U_h the reset gate commutes with U_h and the cell equals torch.nn.GRUCell; otherwise they differ."""
    cell = NerveNetGRUCell(3, 4)
    m, h = torch.randn(6, 3), torch.randn(6, 4)
    assert not torch.allclose(cell(m, h), _torch_cell_like(cell)(m, h), atol=1e-4), \
        "with a full U_h the reset gate before the product must give a different function"
    with torch.no_grad():
        cell.weight_h[8:] = torch.diag(torch.randn(4))  # U_h diagonal: U_h (r * h) == r * (U_h h)
    torch.testing.assert_close(cell(m, h), _torch_cell_like(cell)(m, h), msg="diagonal U_h must make both cells agree")


def test_gru_cell_rejects_bad_shapes():
    """Mismatched message/state sizes raise a ValueError naming the expected shapes."""
    cell = NerveNetGRUCell(3, 4)
    with pytest.raises(ValueError, match="NerveNetGRUCell expects"):
        cell(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="NerveNetGRUCell expects"):
        cell(torch.zeros(2, 3), torch.zeros(3, 4))


# ---------------------------------------------------------------- the policy


@pytest.mark.parametrize("n", [4, 6, 12, 40])
def test_output_shapes(n):
    """forward gives a (B,) log-prob/entropy Normal over (B, 3n - 2) actions and (B,) finite values."""
    pi = NerveNetActorCritic(n)
    dist, value = pi(_obs(n))
    a = dist.sample()
    assert a.shape == (3, 3 * n - 2) and dist.mean.shape == (3, 3 * n - 2), "actions must be (B, 3n - 2)"
    assert dist.log_prob(a).shape == (3,) and dist.entropy().shape == (3,), "log-prob and entropy must be (B,)"
    assert value.shape == (3,) and bool(torch.isfinite(value).all()), "values must be (B,) and finite"
    assert pi.action_mean(_obs(n)).shape == (3, 3 * n - 2), "action_mean must be (B, 3n - 2)"
    assert pi.value(_obs(n)).shape == (3,), "value must be (B,)"


def test_graph_matches_morphology_graph():
    """The batched graph is B copies of morphology_graph(n), offset; the critic's adds root <-> every joint."""
    n = 6
    g, inv_degree = _batched_graph(n, 2, False, "cpu")
    ref = morphology_graph(n)
    src, dst = (x.numpy() for x in g.edges())
    ref_edges = {(int(u), int(v)) for u, v in zip(*ref.edges())}
    assert {(u, v) for u, v in zip(src, dst) if u < 3 * n - 1} == ref_edges, "graph 0 must be the morphology graph"
    assert {(u - 17, v - 17) for u, v in zip(src, dst) if u >= 3 * n - 1} == ref_edges, "graph 1 must be it offset by 3n - 1"
    torch.testing.assert_close(inv_degree.squeeze(1), 1.0 / g.in_degrees().float(), msg="cached 1/in-degree")
    g_all, _ = _batched_graph(n, 1, True, "cpu")
    assert int(g_all.in_degrees()[0]) == 3 * n - 2 and int(g_all.out_degrees()[0]) == 3 * n - 2, "critic root must reach every joint"


def test_one_instance_runs_on_every_size():
    """One instance (graph critic) runs on Centipede-4/8/12/20/40 with finite means and values of the right shapes."""
    pi = NerveNetActorCritic(6, critic="graph")
    for n in (4, 8, 12, 20, 40):
        dist, value = pi(_obs(n, 2))
        assert dist.mean.shape == (2, 3 * n - 2) and value.shape == (2,), f"Centipede-{n}: wrong shapes"
        assert bool(torch.isfinite(dist.mean).all() and torch.isfinite(value).all()), f"Centipede-{n}: non-finite outputs"


def test_flat_critic_on_other_sizes_nan_without_grad_error_with_grad():
    """With the flat MLP critic, another size gives NaN values under no_grad (zero-shot evaluation) and a ValueError otherwise."""
    pi = NerveNetActorCritic(6)
    with torch.no_grad():
        dist, value = pi(_obs(8))
    assert dist.mean.shape == (3, 22) and bool(torch.isnan(value).all()), "no_grad on another size: actions and NaN values"
    with pytest.raises(ValueError, match="critic='graph'"):
        pi(_obs(8))
    assert pi.distribution(_obs(8)).mean.shape == (3, 22), "the actor alone must work on every size with gradients on"


@pytest.mark.parametrize("bad", [torch.zeros(3, 140), torch.zeros(139), torch.zeros(2, 3, 139), torch.zeros(3, 21 * 7 + 13)])
def test_bad_observation_raises(bad):
    """Observations that are not (B, 21n + 13) with n even and >= 4 raise ValueError."""
    with pytest.raises(ValueError):
        NerveNetActorCritic(6)(bad)


def test_non_finite_observation_raises():
    """NaN observations raise a ValueError before they reach the network."""
    obs = _obs(6)
    obs[1, 5] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        NerveNetActorCritic(6)(obs)


@pytest.mark.parametrize("kwargs", [{"n": 5}, {"n": 6, "critic": "gnn"}, {"n": 6, "embed_dim": 64}, {"n": 6, "steps": 0}])
def test_bad_constructor_arguments_raise(kwargs):
    """Odd n, an unknown critic, an embedding as wide as the state and zero steps are rejected."""
    with pytest.raises(ValueError):
        NerveNetActorCritic(**kwargs)


def test_batch_rows_are_independent():
    """Each batch row's output depends only on its own observation (one batched graph, no cross-talk)."""
    pi = NerveNetActorCritic(6, critic="graph")
    obs = _obs(6, 5)
    dist, value = pi(obs)
    for b in range(5):
        d1, v1 = pi(obs[b:b + 1])
        torch.testing.assert_close(d1.mean[0], dist.mean[b], msg="row b alone must equal row b in the batch")
        torch.testing.assert_close(v1[0], value[b], msg="values must not mix batch rows")


@pytest.mark.parametrize("n, k", [(6, 0), (6, 1), (8, 2)])
def test_swapping_sibling_legs_swaps_their_action_means(n, k):
    """With equal left/right hip embeddings, swapping the observations of legs 2k and 2k+1 swaps their means, nothing else changes."""
    pi = NerveNetActorCritic(n)
    with torch.no_grad():  # make the two hip types identical, so the swap is a symmetry of the typed graph
        emb = pi.gnn.embedding.weight
        emb[NODE_TYPES.index("righthip")] = emb[NODE_TYPES.index("lefthip")]
    obs = _obs(n, 4)
    mu, mu_swapped = pi.action_mean(obs), pi.action_mean(_swap_joints(obs, n, _leg_pairs(k)))
    act = {name: i for i, name in enumerate(actuator_names(n))}
    perm = list(range(3 * n - 2))
    for a, b in _leg_pairs(k):
        perm[act[a]], perm[act[b]] = act[b], act[a]
    torch.testing.assert_close(mu_swapped, mu[:, perm], msg="sibling legs' means must swap and all others stay")
    assert not torch.allclose(mu[:, act[f"ankle_{2 * k}"]], mu[:, act[f"ankle_{2 * k + 1}"]]), "the test must swap different means"


def test_mirroring_all_legs_with_swapped_hip_embeddings_mirrors_the_means():
    """Swapping every left/right leg pair and the lefthip/righthip embedding rows swaps all leg means and keeps the body joints'."""
    n = 6
    pi = NerveNetActorCritic(n)
    obs = _obs(n, 2)
    mu = pi.action_mean(obs)
    with torch.no_grad():
        emb = pi.gnn.embedding.weight
        left, right = NODE_TYPES.index("lefthip"), NODE_TYPES.index("righthip")
        emb[[left, right]] = emb[[right, left]]
    pairs = [p for k in range(n // 2) for p in _leg_pairs(k)]
    mu_mirror = pi.action_mean(_swap_joints(obs, n, pairs))
    act = {name: i for i, name in enumerate(actuator_names(n))}
    perm = list(range(3 * n - 2))
    for a, b in pairs:
        perm[act[a]], perm[act[b]] = act[b], act[a]
    torch.testing.assert_close(mu_mirror, mu[:, perm], msg="the mirror image must give mirrored means")


def test_one_propagation_step_is_the_mean_of_the_senders_messages():
    """h^1_v = GRU_kind(v)(mean over u in N(v) of M(h^0_u), h^0_v), against a dense hand computation on the tree."""
    n = 6
    pi = NerveNetActorCritic(n, steps=1)
    _, root, joints, _ = pi._split(_obs(n, 2))
    N, H = 3 * n - 1, pi.gnn.hidden
    pi.gnn.steps = 0
    h0 = pi.gnn(root, joints, n)  # (B, N, H)
    pi.gnn.steps = 1
    h1 = pi.gnn(root, joints, n)
    adjacency = torch.zeros(N, N)  # adjacency[v, u] = 1 if u sends to v; the tree in both directions
    edges = torch.as_tensor(tree_edges(n))
    adjacency[edges[:, 1], edges[:, 0]] = adjacency[edges[:, 0], edges[:, 1]] = 1.0
    degree = adjacency.sum(1, keepdim=True)  # (N, 1)
    assert {1.0, 3.0} <= set(degree.squeeze(1).tolist()), "the test needs nodes of different degree (a mean differs from a sum)"
    m_bar = adjacency @ pi.gnn.message(h0) / degree  # mean over senders of M(h^0_u): (B, N, H)
    expected = torch.cat([pi.gnn.update["root"](m_bar[:, :1], h0[:, :1]), pi.gnn.update["joint"](m_bar[:, 1:], h0[:, 1:])], dim=1)
    torch.testing.assert_close(h1, expected)
    summed = adjacency @ pi.gnn.message(h0)
    as_sum = torch.cat([pi.gnn.update["root"](summed[:, :1], h0[:, :1]), pi.gnn.update["joint"](summed[:, 1:], h0[:, 1:])], dim=1)
    assert not torch.allclose(h1, as_sum, atol=1e-4), "a sum over senders must give a different state"
    assert h1.shape == (2, N, H)


@pytest.mark.parametrize("steps", [2, 4])
def test_receptive_field_is_T_hops(steps):
    """Changing one joint's angle changes exactly the action means of joints at most T hops away on the tree."""
    n = 12
    pi = NerveNetActorCritic(n, steps=steps)
    obs = _obs(n, 1)
    moved = joint_names(n).index("ankle_0")  # node moved + 1; its angle is obs[5 + moved] and belongs to it alone
    obs2 = obs.clone()
    obs2[0, 5 + moved] += 1.0
    changed = (pi.action_mean(obs) - pi.action_mean(obs2)).abs()[0] > 1e-7  # (3n - 2,) actuator order
    hops = bfs_distances(3 * n - 1, tree_edges(n), moved + 1)  # hop distances on the morphology tree
    node_of = {name: j + 1 for j, name in enumerate(joint_names(n))}
    near = np.array([hops[node_of[name]] <= steps for name in actuator_names(n)])
    assert not bool(changed[torch.as_tensor(~near)].any()), "joints more than T hops away must not react"
    assert bool(changed[torch.as_tensor(near)].all()), "joints within T hops must react"


# ---------------------------------------------------------------- log-std transfer and initialisation


def test_log_std_transfer_copies_by_name_and_averages_new_joints():
    """log_std_for(m): the parameter itself for the training size; shared joint names copied; new joints get the mean of their type."""
    pi = NerveNetActorCritic(6)
    with torch.no_grad():
        pi.log_std.copy_(torch.randn(16))
    assert pi.log_std_for(6) is pi.log_std, "the training size must use the parameter itself"
    src = dict(zip(actuator_names(6), pi.log_std.tolist()))
    out = pi.log_std_for(8)
    for name, value in zip(actuator_names(8), out.tolist()):
        kind = name.rsplit("_", 1)[0]
        expect = src[name] if name in src else np.mean([v for s, v in src.items() if s.rsplit("_", 1)[0] == kind])
        assert math.isclose(value, expect, rel_tol=1e-5, abs_tol=1e-6), f"{name}: wrong transferred log-std"
    out.sum().backward()
    assert pi.log_std.grad is not None and bool((pi.log_std.grad > 0).all()), "gradients must reach the source log-std"


def test_initialisation_follows_nervenet():
    """Embedding columns have unit norm, GRU biases are 0, MLP biases 0.01, log-std 0, encoder weights orthogonal."""
    pi = NerveNetActorCritic(6)
    torch.testing.assert_close(pi.gnn.embedding.weight.norm(dim=0), torch.ones(32), msg="embedding columns must have unit norm")
    for cell in pi.gnn.update.values():
        assert bool((cell.bias == 0).all()), "GRU biases must start at 0"
        w = cell.weight_h[:64].detach()
        torch.testing.assert_close(w @ w.T, torch.eye(64), atol=1e-5, rtol=0, msg="GRU blocks must be orthogonal")
    for mlp in (pi.gnn.message, pi.decoder, pi.gnn.encoder):
        for m in mlp.modules():
            if isinstance(m, nn.Linear):
                assert torch.allclose(m.bias, torch.full_like(m.bias, 0.01)), "MLP biases must start at 0.01"
    w = pi.gnn.encoder["joint"][0].weight.detach()  # (32, 8): orthonormal columns
    torch.testing.assert_close(w.T @ w, torch.eye(8), atol=1e-5, rtol=0, msg="encoder weights must be orthogonal")
    assert bool((pi.log_std == 0).all()), "log-std must start at 0 (sigma = 1)"
    for m in pi.critic.modules():
        if isinstance(m, nn.Linear):
            torch.testing.assert_close(m.weight.norm(dim=1), torch.ones(m.out_features), msg="normc: unit-norm rows")


def test_mlp_actor_critic_is_the_papers_mlp_baseline():
    """MLPActorCritic(obs, Box, (64, 64), tanh) is the baseline: two 64-64 tanh MLPs and a state-independent log-std at 0."""
    pi = MLPActorCritic(97, spaces.Box(-1, 1, (10,), np.float32), hidden=(64, 64), activation="tanh")
    dist, value = pi(torch.randn(5, 97))
    torch.testing.assert_close(dist.stddev, torch.ones(5, 10), msg="sigma must be state-independent and start at 1")
    assert [m.out_features for m in pi.actor if isinstance(m, nn.Linear)] == [64, 64, 10], "actor must be 64-64 to the actions"
    assert sum(isinstance(m, nn.Tanh) for m in pi.actor) == 2, "hidden activations must be tanh"


# ---------------------------------------------------------------- Snowflake freezing


def test_freeze_default_is_snowflakes_encoder_message_decoder():
    """freeze(pi) freezes exactly the encoder, message MLP and decoder parameters and returns their names."""
    pi = NerveNetActorCritic(4)
    names = freeze(pi)
    prefixes = tuple(FREEZABLE_PARTS[p] + "." for p in SNOWFLAKE_PARTS)
    expect = [name for name, _ in pi.named_parameters() if name.startswith(prefixes)]
    assert names == expect and len(names) == 16, "the returned names must be the encoder, message and decoder parameters"
    for name, p in pi.named_parameters():
        assert p.requires_grad == (name not in names), f"{name}: requires_grad must be False exactly when frozen"


def test_freeze_rejects_unknown_parts_and_modules():
    """An unknown part raises ValueError listing the parts; a module without PARTS raises TypeError; a single name works."""
    with pytest.raises(ValueError, match="unknown part 'gru'"):
        freeze(NerveNetActorCritic(4), ["encoder", "gru"])
    with pytest.raises(TypeError, match="PARTS"):
        freeze(nn.Linear(2, 2), ["encoder"])
    assert freeze(NerveNetActorCritic(4), "log_std") == ["log_std"], "a single part name must be accepted"


def test_frozen_parts_stay_fixed_while_gradients_flow_through_them():
    """After an Adam step on a PPO loss, frozen parts are unchanged, the rest changed, and parts before frozen ones got gradients."""
    pi = NerveNetActorCritic(4)
    frozen = set(freeze(pi, SNOWFLAKE_PARTS))
    before = {name: p.detach().clone() for name, p in pi.named_parameters()}
    optimizer = torch.optim.Adam([p for p in pi.parameters() if p.requires_grad], lr=1e-2)
    obs = _obs(4, 16)
    with torch.no_grad():
        dist_old, _ = pi(obs)
        actions = dist_old.sample()
        old_logprob = dist_old.log_prob(actions)
    advantages, returns = torch.randn(16), torch.randn(16)
    dist, value = pi(obs)
    ratio = (dist.log_prob(actions) - old_logprob).exp()
    pg_loss = torch.max(-advantages * ratio, -advantages * ratio.clamp(0.8, 1.2)).mean()
    v_loss = 0.5 * ((value - returns) ** 2).mean()
    optimizer.zero_grad()
    (pg_loss + v_loss).backward()
    for name, p in pi.named_parameters():
        if name in frozen:
            assert p.grad is None, f"{name}: a frozen parameter must get no gradient"
        elif name.startswith(("gnn.update.", "gnn.embedding.")):  # before the frozen decoder / message MLP
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, f"{name}: gradients must flow through frozen parts"
    optimizer.step()
    for name, p in pi.named_parameters():
        if name in frozen:
            assert torch.equal(p, before[name]), f"{name}: a frozen parameter must keep its value"
        else:
            assert not torch.equal(p, before[name]), f"{name}: a trainable parameter must change"


# ---------------------------------------------------------------- PPO smoke test


def test_ppo_smoke_on_centipede4_with_freezing():
    """PPO trains a Snowflake-frozen NerveNet on Centipede-4 for 256 steps: finite losses and the frozen parts unchanged."""
    pytest.importorskip("mujoco")
    from gnnrl_lite.algos.ppo import PPOConfig, train
    from gnnrl_lite.envs import CentipedeEnv, make_vec_env

    pi = NerveNetActorCritic(4)
    frozen = freeze(pi)
    before = {name: p.detach().clone() for name, p in pi.named_parameters()}
    cfg = PPOConfig(total_timesteps=256, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2, learning_rate=3e-4,
                    ent_coef=0.0, max_grad_norm=5.0)
    envs = make_vec_env(lambda: CentipedeEnv(4), 2)
    result = train(pi, envs, cfg, seed=0, progress=False)
    envs.close()
    assert result.global_step == 256 and len(result.history) == 2, "two iterations of 128 steps"
    for row in result.history:
        for key in ("losses/policy_loss", "losses/value_loss", "losses/approx_kl"):
            assert math.isfinite(row[key]), f"{key} must be finite"
    params = dict(pi.named_parameters())
    assert all(torch.equal(params[name], before[name]) for name in frozen), "PPO must not move frozen parameters"
    assert not torch.equal(params["gnn.update.joint.weight_h"], before["gnn.update.joint.weight_h"]), "PPO must train the GRU"


# ---------------------------------------------------------------- observation normalisation per node type


def _by_hand(pi: NerveNetActorCritic, obs: torch.Tensor, n: int):
    """Root and joint features of Centipede-n normalised with pi's per-type statistics, written out."""
    root_idx, joint_idx = observation_index(n)
    types = node_types(n)[1:]
    norm = lambda x, rn: ((x.double() - rn.mean) / torch.sqrt(rn.var.clamp(min=1e-2) + 1e-6)).clamp(-5, 5).float()  # noqa: E731
    root = norm(obs[:, torch.as_tensor(root_idx)], pi.obs_norm["root"])  # (B, 17)
    joints = obs[:, torch.as_tensor(joint_idx)].clone()  # (B, 3n - 2, 8)
    for j, t in enumerate(types):
        joints[:, j] = norm(joints[:, j], pi.obs_norm[NODE_TYPES[t]])
    return root, joints


def test_normalize_obs_default_off_leaves_outputs_unchanged():
    """Default normalize_obs=False adds nothing; normalize_obs=True draws the same parameters under a seed and equals it before any observe."""
    torch.manual_seed(1)
    plain = NerveNetActorCritic(4)
    torch.manual_seed(1)
    normed = NerveNetActorCritic(4, normalize_obs=True)
    assert not plain.normalize_obs and not any("norm" in k for k in plain.state_dict()), "default must have no normaliser"
    assert all(torch.equal(p, q) for p, q in zip(plain.parameters(), normed.parameters())), "buffers only: same initial parameters"
    obs = _obs(4, 3).clamp(-4.9, 4.9)  # no statistics yet: the normaliser is clip(x, -5, 5)
    plain.observe(obs * 100)  # a no-op without the normaliser
    (d0, v0), (d1, v1) = plain(obs), normed(obs)
    torch.testing.assert_close(d1.mean, d0.mean, msg="action means must agree before any observe")
    torch.testing.assert_close(v1, v0, msg="values must agree before any observe")


def test_normalize_obs_statistics_are_per_node_type(rng):
    """observe pools each node type's features over the batch and over all nodes of that type (numpy mean and var)."""
    n = 6
    pi = NerveNetActorCritic(n, normalize_obs=True)
    batches = [torch.as_tensor(rng.normal(1.0, 2.0, size=(b, 21 * n + 13)), dtype=torch.float32) for b in (3, 5)]
    for x in batches:
        pi.observe(x)
    flat = torch.cat(batches).double().numpy()
    root_idx, joint_idx = observation_index(n)
    types = node_types(n)[1:]
    np.testing.assert_allclose(pi.obs_norm["root"].mean.numpy(), flat[:, root_idx].mean(0), rtol=1e-10, err_msg="root mean")
    for t in range(1, len(NODE_TYPES)):
        feats = flat[:, joint_idx[types == t]].reshape(-1, 8)  # (B * k, 8): every node of type t in every row
        norm = pi.obs_norm[NODE_TYPES[t]]
        assert norm.count.item() == len(feats), f"{NODE_TYPES[t]}: count must be batch size x nodes of the type"
        np.testing.assert_allclose(norm.mean.numpy(), feats.mean(0), rtol=1e-10, err_msg=f"{NODE_TYPES[t]}: mean")
        np.testing.assert_allclose(norm.var.numpy(), feats.var(0), rtol=1e-10, err_msg=f"{NODE_TYPES[t]}: var")
    np.testing.assert_allclose(pi.critic_obs_norm.mean.numpy(), flat.mean(0), rtol=1e-10, err_msg="flat critic: per-index mean")


@pytest.mark.parametrize("critic", ["mlp", "graph"])
def test_normalize_obs_applies_before_the_encoders_and_to_the_critic(critic):
    """Means equal the network on hand-normalised node features; the graph critic reads them too, the flat critic its own per-index norm."""
    n = 4
    pi = NerveNetActorCritic(n, critic=critic, normalize_obs=True)
    pi.observe(_obs(n, 16) * 3 + 1)
    obs = _obs(n, 3) * 3 + 1
    root, joints = _by_hand(pi, obs, n)
    dist, value = pi(obs)
    torch.testing.assert_close(dist.mean, pi._mean(root, joints, n), msg="the actor must read per-type normalised node features")
    if critic == "graph":
        torch.testing.assert_close(value, pi.critic(root, joints, n), msg="the graph critic must read the same normalised features")
    else:
        flat = pi.critic_obs_norm
        obs_hat = ((obs.double() - flat.mean) / torch.sqrt(flat.var.clamp(min=1e-2) + 1e-6)).clamp(-5, 5).float()
        torch.testing.assert_close(value, pi.critic(obs_hat).squeeze(-1), msg="the flat critic must read the per-index normalised obs")


def test_normalize_obs_statistics_transfer_unchanged_across_sizes():
    """Statistics gathered on Centipede-6 have no size: they load into a Centipede-8 policy and normalise Centipede-8 nodes unchanged."""
    pi6 = NerveNetActorCritic(6, normalize_obs=True)
    pi6.observe(_obs(6, 32) * 2 + 0.5)
    stats = {k: v.clone() for k, v in pi6.obs_norm.state_dict().items()}
    assert {tuple(v.shape) for k, v in stats.items() if k.endswith("mean")} == {(17,), (8,)}, "node statistics must not depend on n"
    obs8 = _obs(8, 3) * 2 + 0.5
    root, joints = _by_hand(pi6, obs8, 8)
    with torch.no_grad():
        torch.testing.assert_close(pi6.action_mean(obs8), pi6._mean(root, joints, 8), msg="Centipede-6 statistics must normalise Centipede-8")
    pi8 = NerveNetActorCritic(8, normalize_obs=True)
    pi8.obs_norm.load_state_dict(pi6.obs_norm.state_dict())  # raises on a shape mismatch
    r8, j8 = _by_hand(pi8, obs8, 8)
    torch.testing.assert_close((r8, j8), (root, joints), msg="the loaded statistics must be the same normaliser")
    count = pi6.critic_obs_norm.count.item()
    pi6.observe(obs8)
    assert pi6.critic_obs_norm.count.item() == count, "observing another size must leave the flat critic's statistics alone"
    assert pi6.obs_norm["ankle"].count.item() == stats["ankle.count"].item() + 3 * 8, "node statistics must pool other sizes too"


def test_ppo_smoke_on_centipede4_with_normalize_obs_and_checkpoint(tmp_path):
    """PPO with normalize_obs=True on a frozen Centipede-4 NerveNet: finite losses, one row per step, and the checkpoint restores it all."""
    pytest.importorskip("mujoco")
    from gnnrl_lite.algos.ppo import PPOConfig, train
    from gnnrl_lite.envs import CentipedeEnv, make_vec_env

    pi = NerveNetActorCritic(4, normalize_obs=True)
    freeze(pi)
    cfg = PPOConfig(total_timesteps=64, num_envs=2, num_steps=32, num_minibatches=2, update_epochs=1)
    envs = make_vec_env(lambda: CentipedeEnv(4), 2)
    result = train(pi, envs, cfg, seed=0, progress=False, checkpoint=tmp_path / "snowflake.pt")
    assert math.isfinite(result.history[0]["losses/policy_loss"]), "policy loss must be finite"
    assert pi.obs_norm["root"].count.item() == 64 and pi.critic_obs_norm.count.item() == 64, "one row per env step"
    assert pi.obs_norm["ankle"].count.item() == 64 * 4, "Centipede-4 has four ankles: four rows per step"
    fresh = NerveNetActorCritic(4, normalize_obs=True)
    freeze(fresh)
    resumed = train(fresh, envs, cfg, seed=0, progress=False, checkpoint=tmp_path / "snowflake.pt")  # finished: loads, runs nothing
    envs.close()
    np.testing.assert_equal(resumed.history, result.history, err_msg="a finished checkpoint must give back its history")
    for (name, a), b in zip(pi.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), f"{name}: parameters and normaliser statistics must be restored exactly"
