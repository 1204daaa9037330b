"""Tests for gnnrl_lite.symmetrizer: the symmetrizer projection, equivariant bases, EquivariantLinear and EquivariantActorCritic."""

import numpy as np
import pytest
import torch
from torch.distributions import Categorical

from gnnrl_lite.envs.prey import ACTION_PERMUTATIONS, rotate_view
from gnnrl_lite.symmetrizer import EquivariantActorCritic, EquivariantLinear, equivariant_basis, invariant_basis, symmetrize
from gnnrl_lite.symmetry import (cayley_table, cyclic_group, dihedral_group, equivariance_error, grid_representation, permutation_matrices,
                                 regular_representation, sign_group)

C4, D4 = cyclic_group(4), dihedral_group(4)
SWAP = permutation_matrices([[0, 1], [1, 0]])
PREY_ACTIONS = permutation_matrices(ACTION_PERMUTATIONS)
REG_C4, REG_D4 = regular_representation(cayley_table(C4)), regular_representation(cayley_table(D4))
TRIVIAL2 = np.ones((2, 1, 1))
# (in_rep, out_rep): CartPole's mirror, C4 on the plane, C4 on a 3x3 grid to the prey's actions, D4 on the plane to a 3x3 grid, regular D4
PAIRS = {"C2-cartpole": (sign_group(4), SWAP), "C4-plane": (C4, C4), "C4-grid": (grid_representation(C4, 3), PREY_ACTIONS),
         "D4-grid": (D4, grid_representation(D4, 3)), "D4-regular": (REG_D4, REG_D4), "C3-plane": (cyclic_group(3), cyclic_group(3))}


def channels(rep, c):
    """The representation on ``c`` stacked copies (channel-major): ``kron(I_c, rep_g)``."""
    return np.stack([np.kron(np.eye(c), m) for m in np.asarray(rep)])


def equivariance_gap(W, L, P):
    return max(np.abs(P[g] @ W - W @ L[g]).max() for g in range(len(L)))


# ---------------------------------------------------------------- symmetrize and bases
@pytest.mark.parametrize("name", PAIRS)
def test_symmetrize_projects_onto_equivariant_maps(name):
    L, P = PAIRS[name]
    W = np.random.default_rng(0).normal(size=(P.shape[1], L.shape[1]))
    S = symmetrize(W, L, P)
    assert equivariance_gap(W, L, P) > 0.1 and equivariance_gap(S, L, P) < 1e-10
    assert np.allclose(symmetrize(S, L, P), S)  # idempotent
    assert np.allclose(np.sum(W * S), np.sum(S * S))  # orthogonal projection: W - S(W) is orthogonal to S(W)


def test_symmetrize_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"need \|G\| equal"):
        symmetrize(np.zeros((2, 2)), C4, SWAP)
    with pytest.raises(ValueError, match="W of shape"):
        symmetrize(np.zeros((2, 4)), sign_group(4), sign_group(3))


@pytest.mark.parametrize("name", PAIRS)
def test_equivariant_basis_is_orthonormal_equivariant_and_of_the_character_dimension(name):
    L, P = PAIRS[name]
    B = equivariant_basis(L, P)
    flat = B.reshape(len(B), -1)
    assert np.allclose(flat @ flat.T, np.eye(len(B)))
    assert all(equivariance_gap(b, L, P) < 1e-10 for b in B)
    assert np.allclose([symmetrize(b, L, P) for b in B], B)  # fixed by the projection
    char = np.mean(np.trace(L, axis1=1, axis2=2) * np.trace(P, axis1=1, axis2=2))  # dim Hom_G(L, P) for real orthogonal reps
    assert len(B) == round(char)


@pytest.mark.parametrize("in_rep, out_rep, rank", [(sign_group(4), SWAP, 4), (SWAP, SWAP, 2), (REG_C4, REG_C4, 4), (TRIVIAL2, SWAP, 1),
                                                   (C4, C4, 2), (D4, D4, 1), (TRIVIAL2, sign_group(1), 0)])
def test_equivariant_basis_known_ranks(in_rep, out_rep, rank):
    B = equivariant_basis(in_rep, out_rep)
    assert B.shape == (rank, out_rep.shape[1], in_rep.shape[1])


def test_invariant_basis():
    assert np.allclose(np.abs(invariant_basis(SWAP)), np.sqrt(0.5))  # (1, 1) / sqrt(2)
    assert invariant_basis(sign_group(3)).shape == (0, 3)
    for rep, rank in ((REG_D4, 1), (grid_representation(C4, 3), 3), (grid_representation(C4, 4), 4), (D4, 0)):
        b = invariant_basis(rep)
        assert b.shape == (rank, rep.shape[1]) and np.allclose(b @ b.T, np.eye(rank))
        assert all(np.allclose(m @ b.T, b.T) for m in rep)
    with pytest.raises(ValueError, match="non-empty stack"):
        invariant_basis(np.zeros((2, 3)))


# ---------------------------------------------------------------- EquivariantLinear
@pytest.mark.parametrize("L, P, c_in, c_out", [(sign_group(4), SWAP, 1, 8), (grid_representation(C4, 7), PREY_ACTIONS, 2, 3),
                                               (REG_D4, REG_D4, 3, 4), (REG_C4, np.ones((4, 1, 1)), 5, 1)])
def test_equivariant_linear_is_equivariant(L, P, c_in, c_out):
    layer = EquivariantLinear(c_in, c_out, L, P)
    with torch.no_grad():
        layer.bias_coeffs.normal_()  # zero at init: make the bias part of the test
    Lc, Pc = channels(L, c_in), channels(P, c_out)
    x = torch.randn(16, c_in * L.shape[1])
    assert layer(x).shape == (16, c_out * P.shape[1])
    assert equivariance_error(layer, x, Lc, Pc) < 1e-5
    W, b = layer.weight().detach().double().numpy(), layer.bias().detach().double().numpy()
    assert W.shape == (c_out * P.shape[1], c_in * L.shape[1])
    assert equivariance_gap(W, Lc, Pc) < 1e-5
    assert np.abs(Pc @ b - b).max() < 1e-6 and np.abs(b).max() > 0
    assert torch.allclose(layer(x), x @ layer.weight().T + layer.bias(), atol=1e-6)


def test_equivariant_linear_bias_options():
    assert EquivariantLinear(2, 3, SWAP, SWAP, bias=False).bias() is None
    layer = EquivariantLinear(1, 2, sign_group(1), sign_group(1))  # no invariant vector under -1: no bias
    assert layer.bias_coeffs is None and layer.bias() is None and len(layer.bias_basis) == 0
    layer = EquivariantLinear(2, 3, SWAP, SWAP)
    assert torch.equal(layer.bias(), torch.zeros(6))  # zero-initialised
    assert "basis rank 2" in repr(layer) and "bias rank 1" in repr(layer)


def test_equivariant_linear_initialisation_scale():
    layer = EquivariantLinear(64, 64, REG_C4, REG_C4)
    assert layer.gain == pytest.approx(np.sqrt(2.0 / (4 * 64 * 4)))  # r = 4, C_in = 64, p_in = 4
    assert layer.coeffs.std().item() == pytest.approx(layer.gain, rel=0.03)
    assert EquivariantLinear(8, 8, SWAP, SWAP, gain=0.5).coeffs.std().item() == pytest.approx(0.5, rel=0.15)


def test_equivariant_linear_rejects_bad_input():
    layer = EquivariantLinear(2, 3, SWAP, SWAP)
    for x in (torch.randn(4, 3), torch.randn(4), torch.randn(4, 2, 2)):
        with pytest.raises(ValueError, match=r"expects \(B, 2 \* 2\)"):
            layer(x)
    with pytest.raises(ValueError, match="same group elements"):
        EquivariantLinear(1, 1, C4, SWAP)
    with pytest.raises(ValueError, match="no non-zero equivariant linear map"):
        EquivariantLinear(1, 1, TRIVIAL2, sign_group(1))
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        EquivariantLinear(0, 1, SWAP, SWAP)
    with pytest.raises(TypeError, match="out_channels must be a positive integer"):
        EquivariantLinear(1, 1.5, SWAP, SWAP)
    with pytest.raises(ValueError, match="non-empty stack"):
        EquivariantLinear(1, 1, np.zeros((2, 2, 3)), SWAP)


def test_no_grad_cache_follows_parameter_updates():
    layer, x = EquivariantLinear(2, 3, SWAP, SWAP).eval(), torch.randn(5, 4)  # the cache works in eval mode only
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    with torch.no_grad():
        before = layer(x)
        assert torch.equal(layer(x), before)  # served from the cache
    assert torch.allclose(layer(x), before)  # grad mode agrees
    (layer(x) ** 2).sum().backward()
    opt.step()
    with torch.no_grad():
        after = layer(x)
    assert not torch.allclose(after, before) and torch.allclose(after, layer(x))
    other = EquivariantLinear(2, 3, SWAP, SWAP)
    layer.load_state_dict(other.state_dict())
    with torch.no_grad():
        assert torch.allclose(layer(x), other(x))
    layer.reset_parameters()
    with torch.no_grad():
        assert torch.allclose(layer(x), x @ layer.weight().T)  # new weights, zero bias
        stale = layer(x)
        layer.coeffs.data.mul_(2)  # invisible to the version counter: documented, refreshed by eval()
        assert torch.equal(layer(x), stale) and torch.allclose(layer.eval()(x), 2 * stale)


def test_no_cache_in_training_mode():
    layer, x = EquivariantLinear(1, 2, SWAP, SWAP), torch.randn(3, 2)
    with torch.no_grad():
        y = layer(x)
        layer.coeffs.data.mul_(2)
        assert torch.allclose(layer(x), 2 * y)


# ---------------------------------------------------------------- EquivariantActorCritic
def test_actor_critic_parameter_count_matches_the_paper():
    net = EquivariantActorCritic(sign_group(4), [[0, 1], [1, 0]], hidden=(64, 64))
    assert sum(p.numel() for p in net.parameters()) == 8770  # van der Pol et al.: ~8.8k for CartPole


@pytest.mark.parametrize("activation", ["relu", "tanh", "elu", "silu"])
def test_actor_critic_cartpole_is_equivariant(activation):
    net, x = EquivariantActorCritic(sign_group(4), [[0, 1], [1, 0]], hidden=(16, 16), activation=activation), torch.randn(32, 4)
    dist, value = net(x)
    assert isinstance(dist, Categorical) and dist.probs.shape == (32, 2) and value.shape == (32,)
    assert equivariance_error(lambda s: net(s)[0].logits, x, sign_group(4), SWAP) < 1e-5
    assert equivariance_error(lambda s: net(s)[1][:, None], x, sign_group(4)) < 1e-5
    assert torch.allclose(dist.probs, torch.full((32, 2), 0.5), atol=0.05)  # small actor gain: near-uniform at init


def test_actor_critic_prey_grid_is_equivariant():
    net = EquivariantActorCritic(grid_representation(C4, 7), ACTION_PERMUTATIONS, hidden=(8, 8))
    obs = torch.rand(6, 7, 7)
    dist, value = net(obs)
    for k in range(4):
        dist_k, value_k = net(rotate_view(obs, k))
        assert torch.allclose(dist_k.probs[:, ACTION_PERMUTATIONS[k].tolist()], dist.probs, atol=1e-6)  # pi(K_g a | L_g s) = pi(a | s)
        assert torch.allclose(value_k, value, atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(net(obs)[0].logits, dist.logits, atol=1e-6)


def test_actor_critic_rejects_bad_input():
    net = EquivariantActorCritic(sign_group(4), [[0, 1], [1, 0]], hidden=(4,))
    with pytest.raises(ValueError, match="4 numbers per sample"):
        net(torch.randn(3, 5))
    with pytest.raises(ValueError, match="NaN or infinite"):
        net(torch.tensor([[0.0, float("nan"), 0.0, 0.0]]))
    with pytest.raises(ValueError, match="one row per group element"):
        EquivariantActorCritic(C4, [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="permutation"):
        EquivariantActorCritic(sign_group(4), [[0, 1], [1, 1]])
    with pytest.raises(ValueError, match="at least one layer"):
        EquivariantActorCritic(sign_group(4), [[0, 1], [1, 0]], hidden=())
    with pytest.raises(ValueError, match="hidden width must be a positive integer"):
        EquivariantActorCritic(sign_group(4), [[0, 1], [1, 0]], hidden=(8, 0))
    with pytest.raises(ValueError, match="activation"):
        EquivariantActorCritic(sign_group(4), [[0, 1], [1, 0]], activation="gelu")


def test_actor_critic_rejects_mismatched_or_unfaithful_representations():
    from gnnrl_lite.envs.prey import ACTION_PERMUTATIONS
    from gnnrl_lite.symmetry import cyclic_group, grid_representation
    with pytest.raises(ValueError, match="not a representation"):
        EquivariantActorCritic(grid_representation(cyclic_group(4), 7), ACTION_PERMUTATIONS[[0, 1, 3, 2]])
    with pytest.raises(ValueError, match="faithful"):
        EquivariantActorCritic(np.ones((2, 1, 1)), [[0, 1], [1, 0]])
