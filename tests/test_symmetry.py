"""Tests for gnnrl_lite.symmetry: groups as matrix stacks, group axioms, representations, grid actions and symmetry checks."""

import numpy as np
import pytest
import torch
from torch import nn

from gnnrl_lite.envs.prey import ACTION_PERMUTATIONS
from gnnrl_lite.symmetry import (cayley_table, check_group_axioms, cyclic_group, dihedral_group, equivariance_error, grid_representation,
                                 is_representation, mdp_symmetry_error, permutation_matrices, regular_representation, sign_group)

ALL_TRUE = {"closure": True, "associativity": True, "identity": True, "inverses": True}
GROUPS = [(cyclic_group(n), n) for n in (1, 2, 3, 4, 6)] + [(dihedral_group(n), 2 * n) for n in (2, 3, 4)] + [(sign_group(3), 2)]
GROUP_IDS = ["C1", "C2", "C3", "C4", "C6", "D2", "D3", "D4", "sign3"]


# ---------------------------------------------------------------- groups and axioms
@pytest.mark.parametrize("mats, order", GROUPS, ids=GROUP_IDS)
def test_groups_pass_the_axioms_with_the_right_order(mats, order):
    assert len(mats) == order
    assert check_group_axioms(mats) == ALL_TRUE
    assert np.allclose(mats @ mats.transpose(0, 2, 1), np.eye(mats.shape[1]))  # orthogonal
    assert np.array_equal(mats[0], np.eye(mats.shape[1]))  # element 0 is the identity


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_rotation_and_reflection_determinants(n):
    assert np.allclose(np.linalg.det(cyclic_group(n)), 1.0)
    det = np.linalg.det(dihedral_group(n))
    assert np.allclose(det[:n], 1.0) and np.allclose(det[n:], -1.0)
    c, s = np.cos(2 * np.pi / n), np.sin(2 * np.pi / n)
    assert np.allclose(cyclic_group(n)[1 % n], [[c, -s], [s, c]])  # element 1: one turn of 2 pi / n, counter-clockwise


def test_c4_has_exact_integer_entries_and_sign_group_negates():
    assert np.array_equal(cyclic_group(4), np.round(cyclic_group(4)))
    assert np.array_equal(sign_group(2), [np.eye(2), -np.eye(2)])


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "4"])
def test_group_constructors_reject_bad_sizes(bad):
    for make, name in ((cyclic_group, "n"), (dihedral_group, "n"), (sign_group, "dim")):
        with pytest.raises((TypeError, ValueError), match=f"{name} must be a positive integer"):  # checks.check_positive_int
            make(bad)


@pytest.mark.parametrize("mats, failing", [
    (cyclic_group(4)[:3], {"closure", "inverses"}),  # I, R, R^2: R^3 missing
    (cyclic_group(4)[1:], {"closure", "identity"}),  # no identity (yet R, R^3 and R^2 are each other's inverses)
    ([[[2.0]]], {"closure", "identity", "inverses"}),  # {2}: fails all three
    ([[[1.0, 0.0], [0.0, 0.0]]], {"identity", "inverses"}),  # a projector: closed (P^2 = P) but not a group
    ([np.eye(2), np.zeros((2, 2))], {"inverses"}),  # closed monoid with a non-invertible element
    ([np.eye(1), [[2.0]]], {"closure", "inverses"}),  # 2 has no inverse 1/2 in the set
])
def test_axiom_failures_are_reported(mats, failing):
    assert {k for k, ok in check_group_axioms(mats).items() if not ok} == failing


@pytest.mark.parametrize("bad", [np.zeros((0, 2, 2)), np.zeros((2, 2)), np.zeros((2, 2, 3))])
def test_stacks_must_be_non_empty_square(bad):
    with pytest.raises(ValueError, match="non-empty stack of square matrices"):
        check_group_axioms(bad)
    with pytest.raises(ValueError, match="non-empty stack of square matrices"):
        cayley_table(bad)


# ---------------------------------------------------------------- tables and representations
@pytest.mark.parametrize("mats, order", GROUPS, ids=GROUP_IDS)
def test_cayley_table_is_a_latin_square_and_matches_products(mats, order):
    table = cayley_table(mats)
    assert table.shape == (order, order)
    assert all(sorted(row) == list(range(order)) for row in table.tolist())
    assert all(sorted(col) == list(range(order)) for col in table.T.tolist())
    assert all(np.allclose(mats[g] @ mats[h], mats[table[g, h]]) for g in range(order) for h in range(order))
    assert is_representation(table, mats)
    rho = regular_representation(table)
    assert is_representation(table, rho)
    assert np.array_equal(rho.sum(1), np.ones((order, order))) and np.array_equal(rho.sum(2), np.ones((order, order)))
    assert np.array_equal(rho[:, :, 0], np.eye(order))  # rho(g) e_identity = e_g


def test_cayley_table_of_c4_and_non_closed_set():
    assert cayley_table(cyclic_group(4)).tolist() == [[(g + h) % 4 for h in range(4)] for g in range(4)]
    with pytest.raises(ValueError, match="not closed"):
        cayley_table(cyclic_group(4)[:3])


def test_wrong_tables_are_not_representations():
    d3 = dihedral_group(3)
    table = cayley_table(d3)
    assert not np.array_equal(table, table.T)  # D3 is not abelian
    assert not is_representation(table.T, d3)
    assert not is_representation(table[[0, 2, 1, 3, 4, 5]], d3)  # rows shuffled
    assert not is_representation(cayley_table(cyclic_group(4)), cyclic_group(4)[[0, 1, 3, 2]])
    with pytest.raises(ValueError, match="table must be"):
        is_representation(table[:3], d3)


@pytest.mark.parametrize("bad", [np.zeros((2, 2), int), np.zeros((2, 3), int), [[0, 1], [1, 1]], np.arange(4)])
def test_regular_representation_rejects_non_tables(bad):
    with pytest.raises(ValueError, match="Cayley table"):
        regular_representation(bad)


def test_permutation_matrices_from_prey_actions_represent_c4():
    mats = permutation_matrices(ACTION_PERMUTATIONS)
    assert mats.shape == (4, 5, 5)
    for g in range(4):
        for a in range(5):
            assert np.array_equal(mats[g] @ np.eye(5)[a], np.eye(5)[ACTION_PERMUTATIONS[g, a]])
    assert is_representation(cayley_table(cyclic_group(4)), mats)
    assert check_group_axioms(mats) == ALL_TRUE


@pytest.mark.parametrize("bad", [[[0, 0]], [[0, 2]], [0, 1], [[[0, 1]]]])
def test_permutation_matrices_reject_non_permutations(bad):
    with pytest.raises(ValueError, match="permutation"):
        permutation_matrices(bad)


# ---------------------------------------------------------------- grids
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6])
def test_c4_on_a_grid_is_rot90(size):
    grid = np.random.default_rng(size).normal(size=(size, size))
    P = grid_representation(cyclic_group(4), size)
    assert P.shape == (4, size * size, size * size)
    for k in range(4):
        assert np.array_equal((P[k] @ grid.ravel()).reshape(size, size), np.rot90(grid, k))


@pytest.mark.parametrize("size", [2, 3, 4])
def test_d4_on_a_grid_is_a_permutation_representation(size):
    d4 = dihedral_group(4)
    P = grid_representation(d4, size)
    assert np.array_equal(P.sum(1), np.ones((8, size * size))) and np.array_equal(P.sum(2), np.ones((8, size * size)))
    assert is_representation(cayley_table(d4), P)
    grid = np.arange(size * size).reshape(size, size)
    assert np.array_equal((P[4] @ grid.ravel()).reshape(size, size), np.fliplr(grid))  # the mirror x -> -x


def test_grid_representation_rejects_bad_input():
    with pytest.raises(ValueError, match="integer 2x2"):
        grid_representation(cyclic_group(3), 3)
    with pytest.raises(ValueError, match="integer 2x2"):
        grid_representation(sign_group(3), 3)
    for size in (0, 2.0, True):
        with pytest.raises((TypeError, ValueError), match="size must be a positive integer"):
            grid_representation(cyclic_group(4), size)


# ---------------------------------------------------------------- equivariance checks
def test_equivariance_error_of_commuting_and_generic_maps():
    c4, x = cyclic_group(4), torch.randn(16, 2, dtype=torch.float64)
    A = torch.tensor([[0.7, -1.3], [1.3, 0.7]], dtype=torch.float64)  # a rotation-scaling: commutes with C4
    assert equivariance_error(lambda v: v @ A.T, x, c4, c4) < 1e-12
    assert equivariance_error(lambda v: v @ A.T, x, torch.as_tensor(dihedral_group(4)), dihedral_group(4)) > 0.1  # not with mirrors
    mlp = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double()
    assert equivariance_error(mlp, x, c4, c4) > 1e-2
    norm = lambda v: v.norm(dim=1, keepdim=True)  # noqa: E731
    assert equivariance_error(norm, x, dihedral_group(8)) < 1e-10  # entries rounded to 12 decimals
    assert equivariance_error(lambda v: v[:, :1], x, c4) > 0.1


def test_equivariance_error_rejects_shape_mismatch():
    c4 = cyclic_group(4)
    with pytest.raises(ValueError, match="x must be a batch"):
        equivariance_error(lambda v: v, torch.randn(3, 3), c4, c4)
    with pytest.raises(ValueError, match="x must be a batch"):
        equivariance_error(lambda v: v, torch.randn(2), c4, c4)
    with pytest.raises(ValueError, match="out_rep must be"):
        equivariance_error(lambda v: v, torch.randn(3, 2), c4, sign_group(2))
    with pytest.raises(ValueError, match="out_rep must be"):
        equivariance_error(lambda v: v[:, :1], torch.randn(3, 2), c4, c4)


def _walk(reward):
    """A 1-D walk: action 1 steps right, 0 steps left; terminates at |s| >= 3."""
    def step(s, a):
        s1 = s + (a == 1) - (a == 0)
        return s1, reward(s), bool(abs(s1[0]) >= 3)
    return step


STATES, ACTIONS = [np.array([s]) for s in (-2.0, -1.0, 0.0, 1.0, 2.0, 2.0)], [0, 1, 0, 1, 1, 0]
MIRROR, SWAP = sign_group(1), [[0, 1], [1, 0]]


def test_mdp_symmetry_error_of_symmetric_and_asymmetric_walks():
    assert mdp_symmetry_error(_walk(lambda s: -abs(s[0])), STATES, ACTIONS, MIRROR, SWAP) == {"state": 0.0, "reward": 0.0, "termination": 0}
    assert mdp_symmetry_error(_walk(lambda s: s[0]), STATES, ACTIONS, MIRROR, SWAP)["reward"] == pytest.approx(4.0)
    err = mdp_symmetry_error(_walk(lambda s: 0.0), STATES, ACTIONS, MIRROR, [[0, 1], [0, 1]])  # actions not swapped
    assert err["state"] == pytest.approx(2.0) and err["termination"] > 0 and err["reward"] == 0.0


def test_mdp_symmetry_error_rejects_bad_shapes():
    step = _walk(lambda s: 0.0)
    with pytest.raises(ValueError, match="action_perms must be"):
        mdp_symmetry_error(step, STATES, ACTIONS, MIRROR, [0, 1])
    with pytest.raises(ValueError, match="action_perms must be"):
        mdp_symmetry_error(step, STATES, ACTIONS, MIRROR, SWAP + [[0, 1]])
    with pytest.raises(ValueError, match="non-empty and of equal length"):
        mdp_symmetry_error(step, STATES, ACTIONS[:-1], MIRROR, SWAP)
    with pytest.raises(ValueError, match="non-empty and of equal length"):
        mdp_symmetry_error(step, [], [], MIRROR, SWAP)
    with pytest.raises(ValueError, match="state_rep must be"):
        mdp_symmetry_error(step, STATES, ACTIONS, np.ones((2, 1)), SWAP)


def test_grid_representation_rejects_maps_that_are_not_grid_symmetries():
    with pytest.raises(ValueError, match="does not map the grid onto itself"):
        grid_representation(np.array([np.eye(2), [[1, 1], [0, 1]]]), 3)  # a shear
    with pytest.raises(ValueError, match="does not map the grid onto itself"):
        grid_representation(np.array([np.eye(2), 2 * np.eye(2)]), 3)


def test_permutation_matrices_and_tables_reject_bad_entries():
    with pytest.raises(ValueError):
        permutation_matrices([[0.0, 1.0]])
    with pytest.raises(ValueError):
        permutation_matrices(np.zeros((0, 3), int))
    with pytest.raises(ValueError):
        is_representation(-np.ones((4, 4), int), cyclic_group(4))
