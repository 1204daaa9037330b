"""E2GN2's mixed-action heads: shapes, symmetry of the whole policy, variable candidate sets, clear errors."""

from __future__ import annotations

import doctest

import dgl
import numpy as np
import pytest
import torch

from gnnrl_lite import team_heads
from gnnrl_lite.egnn import complete_graph
from gnnrl_lite.team_heads import HybridTeamActorCritic, agent_nodes

TOL = 1e-9


def _orthogonal(rng, d):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return torch.as_tensor(q)


def _batch(sizes, rng, in_dim=3, d=2):
    g = dgl.batch([complete_graph(n) for n in sizes])
    n = sum(sizes)
    h = torch.as_tensor(rng.standard_normal((n, in_dim)))
    x = torch.as_tensor(rng.standard_normal((n, d)))
    targets = torch.as_tensor(rng.random(n) < 0.5)
    starts = np.cumsum([0] + list(sizes[:-1]))
    targets[torch.as_tensor(starts + np.array(sizes) - 1)] = True  # every graph has a candidate
    return g, h, x, targets


def test_agent_nodes_adds_graph_offsets_and_checks_range():
    g = dgl.batch([complete_graph(3), complete_graph(5), complete_graph(2)])
    assert agent_nodes(g, torch.tensor([2, 0, 1])).tolist() == [2, 3, 9]
    with pytest.raises(ValueError, match="one local node index per graph"):
        agent_nodes(g, torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="must lie in"):
        agent_nodes(g, torch.tensor([0, 5, 0]))


@pytest.mark.parametrize("kind", ["e2gn2", "egnn", "gnn"])
def test_shapes_and_variable_candidate_sets(kind):
    rng = np.random.default_rng(0)
    sizes = [4, 6, 5]
    g, h, x, targets = _batch(sizes, rng)
    policy = HybridTeamActorCritic(3, num_choices=2, kind=kind).double()
    move, choice, target, value = policy(g, h, x, torch.tensor([0, 1, 2]), targets)
    assert move.sample().shape == (3, 2) and choice.probs.shape == (3, 2) and value.shape == (3,)
    assert target.probs.shape == (3, max(sizes))
    local = torch.split(targets, sizes)
    for b, n in enumerate(sizes):  # probability only on each graph's own candidates, summing to 1
        assert torch.equal(target.probs[b, :n] > 0, local[b])
        assert target.probs[b, n:].sum() == 0 and torch.isclose(target.probs[b].sum(), torch.tensor(1.0, dtype=torch.float64))
    loss = -(move.log_prob(move.sample()) + choice.log_prob(choice.sample()) + target.log_prob(target.sample())).sum() + value.sum()
    loss.backward()
    heads = [policy.choice_head, policy.target_head, policy.value_head, policy.actor.embedding, policy.critic.embedding]
    assert all(p.grad is not None for m in heads for p in m.parameters()) and policy.log_std.grad is not None


@pytest.mark.parametrize("kind", ["e2gn2", "egnn"])
@pytest.mark.parametrize("d", [2, 3])
def test_whole_policy_is_equivariant(kind, d):
    """Rotate or reflect the coordinates: the movement mean rotates, every other output is unchanged."""
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    policy = HybridTeamActorCritic(3, num_choices=3, kind=kind, coord_dim=d).double()
    for _ in range(10):
        g, h, x, targets = _batch([5, 7], rng, d=d)
        agent = torch.tensor([1, 4])
        Q = _orthogonal(rng, d)
        m1, c1, t1, v1 = policy(g, h, x, agent, targets)
        m2, c2, t2, v2 = policy(g, h, x @ Q.T, agent, targets)
        assert (m2.mean - m1.mean @ Q.T).abs().max() < TOL
        assert (c2.probs - c1.probs).abs().max() < TOL and (t2.probs - t1.probs).abs().max() < TOL
        assert (v2 - v1).abs().max() < TOL
    assert m1.mean.abs().max() > 1e-6, "not vacuous: the mean is not 0"


def test_relabelling_nodes_relabels_the_target_choice():
    rng = np.random.default_rng(2)
    torch.manual_seed(2)
    policy = HybridTeamActorCritic(3, num_choices=2).double()
    g, h, x, targets = _batch([6], rng)
    perm = torch.as_tensor(rng.permutation(6))  # new node k is old node perm[k]
    inv = torch.argsort(perm)
    agent = 2
    m1, c1, t1, v1 = policy(g, h, x, torch.tensor([agent]), targets)
    m2, c2, t2, v2 = policy(g, h[perm], x[perm], inv[agent].reshape(1), targets[perm])
    assert (t2.probs[0] - t1.probs[0, perm]).abs().max() < TOL
    assert (m2.mean - m1.mean).abs().max() < TOL and (c2.probs - c1.probs).abs().max() < TOL and (v2 - v1).abs().max() < TOL


def test_gnn_kind_is_not_equivariant():
    rng = np.random.default_rng(3)
    torch.manual_seed(3)
    policy = HybridTeamActorCritic(3, num_choices=2, kind="gnn").double()
    g, h, x, targets = _batch([5], rng)
    Q = _orthogonal(rng, 2)
    m1, c1, *_ = policy(g, h, x, torch.tensor([0]), targets)
    m2, c2, *_ = policy(g, h, x @ Q.T, torch.tensor([0]), targets)
    assert (c2.probs - c1.probs).abs().max() > 1e-6, "the GNN's invariant head sees raw coordinates"


def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(4)
    policy = HybridTeamActorCritic(3, num_choices=2).double()
    g, h, x, targets = _batch([4, 4], rng)
    agent = torch.tensor([0, 0])
    with pytest.raises(ValueError, match="one entry per node"):
        policy(g, h, x, agent, targets[:5])
    with pytest.raises(ValueError, match="no valid action"):
        policy(g, h, x, agent, torch.zeros(8, dtype=torch.bool))
    with pytest.raises(ValueError, match="one local node index per graph"):
        policy(g, h, x, torch.tensor([0]), targets)
    with pytest.raises(ValueError):
        policy(g, h[:, :2], x, agent, targets)
    with pytest.raises(ValueError, match="num_choices"):
        HybridTeamActorCritic(3, num_choices=0)


def test_docstring_examples():
    assert doctest.testmod(team_heads, raise_on_error=True).attempted > 0
