r"""Equivariant layers from the Symmetrizer (van der Pol et al., 2020): weights built to commute with a group.

A linear layer :math:`W` is equivariant when :math:`P_g W = W L_g` for every :math:`g` in a finite
group :math:`G`, with :math:`L_g` acting on the input and :math:`P_g` on the output
(:mod:`gnnrl_lite.symmetry`). These :math:`W` form a linear subspace, and the **symmetrizer**

.. math::

    S(W) = \frac{1}{|G|} \sum_{g \in G} P_g^{-1}\, W\, L_g

projects any matrix onto it: :math:`S(S(W)) = S(W)`, and :math:`S(W) = W` exactly for equivariant
:math:`W` (an orthogonal projection when the representations are orthogonal, as all of ours are). :func:`equivariant_basis` returns an
orthonormal basis :math:`\{B_k\}_{k=1}^r` of the subspace, and :class:`EquivariantLinear`
learns only the coefficients of :math:`W = \sum_k c_k B_k`, one set per pair of channels:

.. math::

    y_{o} = \sum_{i=1}^{C_{in}} \Big(\sum_{k=1}^{r} c_{oik} B_k\Big) x_i + \sum_{k=1}^{r_b} \beta_{ok} b_k,

where :math:`x_i` is input channel :math:`i` (a vector of the input representation's size
:math:`|\rho_{in}|`), :math:`y_o` output channel :math:`o`, and :math:`\{b_k\}` a basis of the
invariant biases (:math:`P_g b = b`). Stacked with elementwise nonlinearities between layers whose
hidden representation is a permutation (the group's regular representation), the whole network is
equivariant. :class:`EquivariantActorCritic` does this for discrete actions: logits equivariant
(:math:`\pi(K_g a \mid L_g s) = \pi(a \mid s)`), value invariant.

Differences from the authors' code (``ElisevanderPol/symmetrizer``): they symmetrize 4096 random
Gaussian matrices and take an SVD of the samples; we apply :math:`S` to each of the
:math:`|\rho_{out}||\rho_{in}|` unit matrices and take the SVD of the resulting projection, which
spans the same subspace exactly and without sampling. Their sum omits the :math:`1/|G|`, which
changes the scale but not the span. Initialisation: coefficients
:math:`\mathcal{N}(0, 1)` times the "he" gain :math:`\sqrt{2 / (r\, C_{in} |\rho_{in}|)}`, as
theirs; bias coefficients 0 (theirs: :math:`\mathcal{N}(0, 1)`).

Both representations must list the same group elements in the same order (``in_rep[g]`` and
``out_rep[g]`` the same :math:`g`); :class:`EquivariantActorCritic` checks this, a bare
:class:`EquivariantLinear` cannot (its input representation need not be faithful).

Shapes: a representation is ``(|G|, p, p)``; :class:`EquivariantLinear` maps ``(B, C_in * p_in)``
to ``(B, C_out * p_out)``, channel-major (channel ``i`` is ``x[:, i * p_in:(i + 1) * p_in]``).

To reuse: copy this file, ``symmetry.py`` and ``checks.py``; needs numpy and torch.
Used in Chapter 6.

References
----------
van der Pol, Worrall, van Hoof, Oliehoek & Welling, *MDP Homomorphic Networks: Group Symmetries in
Reinforcement Learning*, NeurIPS 2020 (code: ``ElisevanderPol/symmetrizer``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical

from .checks import check_choice, check_finite, check_positive_int
from .nn import get_activation
from .symmetry import _as_stack, cayley_table, is_representation, permutation_matrices, regular_representation

__all__ = ["symmetrize", "equivariant_basis", "invariant_basis", "EquivariantLinear", "EquivariantActorCritic"]


def symmetrize(W: np.ndarray, in_rep, out_rep) -> np.ndarray:
    r""":math:`S(W) = \frac{1}{|G|}\sum_g P_g^{-1} W L_g` for ``W`` ``(p_out, p_in)``, ``in_rep`` ``(|G|, p_in, p_in)``, ``out_rep`` ``(|G|, p_out, p_out)``."""
    L, P = _as_stack(in_rep, "in_rep"), _as_stack(out_rep, "out_rep")
    W = np.asarray(W, dtype=np.float64)
    if len(L) != len(P) or W.shape != (P.shape[1], L.shape[1]):
        raise ValueError(f"need |G| equal in both representations and W of shape ({P.shape[1]}, {L.shape[1]}); "
                         f"got |G| = {len(L)} and {len(P)}, W {W.shape}")
    return np.mean([np.linalg.inv(P[g]) @ W @ L[g] for g in range(len(L))], axis=0)


def equivariant_basis(in_rep, out_rep, tol: float = 1e-8) -> np.ndarray:
    r"""An orthonormal basis ``(r, p_out, p_in)`` of :math:`\{W : P_g W = W L_g\ \forall g\}`; ``r`` may be 0.

    The columns of the projection :math:`S` (applied to every unit matrix) span the subspace; their
    SVD gives the basis (rank from the singular values above ``tol``).

    >>> from gnnrl_lite.symmetry import sign_group
    >>> swap = np.array([np.eye(2), np.eye(2)[::-1]])
    >>> equivariant_basis(sign_group(4), swap).shape  # W = [w; -w]: one free row
    (4, 2, 4)
    """
    L, P = _as_stack(in_rep, "in_rep"), _as_stack(out_rep, "out_rep")
    p_out, p_in = P.shape[1], L.shape[1]
    columns = [symmetrize(np.eye(p_out * p_in)[j].reshape(p_out, p_in), L, P).ravel() for j in range(p_out * p_in)]
    u, s, _ = np.linalg.svd(np.stack(columns, 1))  # (p_out p_in, p_out p_in), its range = the equivariant subspace
    r = int((s > tol * max(1.0, s[0])).sum())
    return u[:, :r].T.reshape(r, p_out, p_in)


def invariant_basis(rep, tol: float = 1e-8) -> np.ndarray:
    r"""An orthonormal basis ``(r, p)`` of the invariant vectors :math:`\{b : P_g b = b\ \forall g\}` of ``rep`` ``(|G|, p, p)``."""
    P = _as_stack(rep, "rep")
    return equivariant_basis(np.ones((len(P), 1, 1)), P, tol)[:, :, 0]


class EquivariantLinear(nn.Module):
    r"""A linear layer with :math:`P_g W = W L_g` for every group element, :math:`W = \sum_k c_k B_k` per channel pair.

    Parameters
    ----------
    in_channels, out_channels : int
        :math:`C_{in}`, :math:`C_{out}`: copies of the input and output representation.
    in_rep, out_rep : array ``(|G|, p, p)``
        :math:`L_g` on one input channel and :math:`P_g` on one output channel.
    bias : bool
        Add an invariant bias :math:`\sum_k \beta_{ok} b_k` (absent if the output has no invariant vector).
    gain : float or None
        Scale of the coefficients' :math:`\mathcal N(0, 1)` initialisation; ``None``: "he",
        :math:`\sqrt{2 / (r\, C_{in}\, p_{in})}`.

    Notes
    -----
    Shapes: ``(B, C_in * p_in)`` -> ``(B, C_out * p_out)``.

    In eval mode under ``torch.no_grad()`` the full :math:`W` is cached and rebuilt only when a
    parameter has changed (optimiser steps and ``load_state_dict`` are detected; a write through
    ``.data`` is not: call ``.eval()`` again after one).

    Examples
    --------
    >>> from gnnrl_lite.symmetry import sign_group
    >>> swap = np.array([np.eye(2), np.eye(2)[::-1]])
    >>> layer = EquivariantLinear(1, 3, sign_group(4), swap)
    >>> x = torch.randn(5, 4)
    >>> y, y_mirror = layer(x), layer(-x)
    >>> bool(torch.allclose(y_mirror, y.view(5, 3, 2).flip(-1).reshape(5, 6), atol=1e-6))
    True
    """

    def __init__(self, in_channels: int, out_channels: int, in_rep, out_rep, bias: bool = True, gain: float | None = None):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        L, P = _as_stack(in_rep, "in_rep"), _as_stack(out_rep, "out_rep")
        if len(L) != len(P):
            raise ValueError(f"in_rep and out_rep must list the same group elements; got |G| = {len(L)} and {len(P)}")
        self.p_in, self.p_out = L.shape[1], P.shape[1]
        basis = equivariant_basis(L, P)
        if len(basis) == 0:
            raise ValueError("no non-zero equivariant linear map exists between these representations")
        self.register_buffer("basis", torch.as_tensor(basis, dtype=torch.float32))  # B_k: (r, p_out, p_in)
        self.coeffs = nn.Parameter(torch.empty(out_channels, in_channels, len(basis)))  # c_{oik}
        self.gain = float(np.sqrt(2.0 / (len(basis) * in_channels * self.p_in))) if gain is None else float(gain)
        b = invariant_basis(P) if bias else np.zeros((0, self.p_out))
        self.register_buffer("bias_basis", torch.as_tensor(b, dtype=torch.float32))  # b_k: (r_b, p_out)
        self.bias_coeffs = nn.Parameter(torch.zeros(out_channels, len(b))) if len(b) else None  # beta_{ok}
        self._cache_key = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.coeffs.normal_(0.0, self.gain)
            if self.bias_coeffs is not None:
                self.bias_coeffs.zero_()

    def extra_repr(self) -> str:
        return (f"{self.in_channels}x{self.p_in} -> {self.out_channels}x{self.p_out}, basis rank {len(self.basis)}, "
                f"bias rank {len(self.bias_basis)}")

    def weight(self) -> torch.Tensor:
        """The full matrix ``(C_out * p_out, C_in * p_in)``: block ``(o, i)`` is :math:`\\sum_k c_{oik} B_k`."""
        (C_out, C_in, r), (p_out, p_in) = self.coeffs.shape, (self.p_out, self.p_in)
        W = (self.coeffs.reshape(-1, r) @ self.basis.reshape(r, -1)).reshape(C_out, C_in, p_out, p_in)  # sum_k c_oik B_k
        return W.transpose(1, 2).reshape(C_out * p_out, C_in * p_in)

    def bias(self) -> torch.Tensor | None:
        """The bias ``(C_out * p_out,)``, channel-major: channel ``o`` is :math:`\\sum_k \\beta_{ok} b_k`; ``None`` without one."""
        return None if self.bias_coeffs is None else (self.bias_coeffs @ self.bias_basis).reshape(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_channels * self.p_in:
            raise ValueError(f"EquivariantLinear expects (B, {self.in_channels} * {self.p_in}); got {tuple(x.shape)}")
        if self.training or torch.is_grad_enabled():
            return F.linear(x, self.weight(), self.bias())  # (B, C_out * p_out)
        key = tuple((p.data_ptr(), p._version) for p in (self.coeffs, self.bias_coeffs) if p is not None)
        if self._cache_key != key:  # evaluation: W is rebuilt only when a parameter has changed
            self._cache, self._cache_key = (self.weight(), self.bias()), key
        return F.linear(x, *self._cache)

    def train(self, mode: bool = True):
        self._cache_key = None  # the cache lives within one stretch of eval mode
        return super().train(mode)


class EquivariantActorCritic(nn.Module):
    r"""A discrete-action actor-critic that is equivariant by construction (an MDP homomorphic network).

    .. math::

        \pi(\cdot \mid L_g s) = K_g\, \pi(\cdot \mid s), \qquad V(L_g s) = V(s),

    with a shared trunk of :class:`EquivariantLinear` layers whose hidden channels carry the
    group's regular representation (van der Pol et al.'s CartPole and grid networks), an
    equivariant logit layer (one channel of the action representation) and an invariant value
    layer (one channel of the trivial representation).

    Parameters
    ----------
    obs_rep : array ``(|G|, d, d)``
        :math:`L_g` on the flat observation (``(B, ...)`` inputs are flattened to ``(B, d)``).
    action_perms : array ``(|G|, A)``
        :math:`K_g`: row ``g`` maps each action to its image.
    hidden : sequence of int
        Hidden channels; each carries ``|G|`` numbers (``(64, 64)``: 128 units per layer for :math:`C_2`).
    activation : str
        Elementwise hidden activation (any: the hidden representation is a permutation).

    Notes
    -----
    Shapes: ``forward(obs)`` takes ``(B, d)`` (or ``(B, ...)`` of ``d`` numbers) and returns a
    ``Categorical`` over ``A`` actions and values ``(B,)``, like
    :class:`~gnnrl_lite.policies.MLPActorCritic`.
    """

    def __init__(self, obs_rep, action_perms, hidden: Sequence[int] = (64, 64), activation: str = "relu"):
        super().__init__()
        L = _as_stack(obs_rep, "obs_rep")
        K = permutation_matrices(action_perms)
        if len(K) != len(L):
            raise ValueError(f"action_perms must have one row per group element ({len(L)}); got {len(K)}")
        distinct = {m.round(8).tobytes() for m in L}
        if len(distinct) != len(L):
            raise ValueError("obs_rep must be faithful: one distinct matrix per group element (the hidden layers use "
                             "the group's regular representation, read off obs_rep's products)")
        table = cayley_table(L)
        if not is_representation(table, K):
            raise ValueError("action_perms is not a representation of the group of obs_rep: K_g K_h must equal K_gh, "
                             "with the group elements in the same order in both")
        if not hidden:
            raise ValueError("hidden must list at least one layer width")
        self.obs_dim, self.num_actions = L.shape[1], K.shape[1]
        regular = regular_representation(table)  # (|G|, |G|, |G|)
        widths = [1, *(check_positive_int(h, "hidden width") for h in hidden)]
        reps = [L] + [regular] * len(hidden)
        layers = []
        for i in range(len(hidden)):
            layers += [EquivariantLinear(widths[i], widths[i + 1], reps[i], reps[i + 1]), get_activation(check_choice(activation, ("relu", "tanh", "elu", "silu"), "activation"))]
        self.trunk = nn.Sequential(*layers)  # phi(s): (B, C * |G|)
        self.actor = EquivariantLinear(widths[-1], 1, regular, K, gain=0.01 * np.sqrt(1.0 / widths[-1]))  # logits, K_g-equivariant
        self.critic = EquivariantLinear(widths[-1], 1, regular, np.ones((len(L), 1, 1)))  # V(s), invariant

    def forward(self, obs: torch.Tensor):
        obs = obs.reshape(obs.shape[0], -1)
        if obs.shape[1] != self.obs_dim:
            raise ValueError(f"observation batch must hold {self.obs_dim} numbers per sample; got {tuple(obs.shape)}")
        check_finite(obs, "observation")
        z = self.trunk(obs)
        return Categorical(logits=self.actor(z)), self.critic(z).squeeze(-1)
