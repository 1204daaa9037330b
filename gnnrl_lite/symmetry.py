r"""Finite groups as matrices, their actions on vectors and grids, and numerical symmetry checks.

A **group** :math:`G` is a set with a product that is closed, associative, has an identity
:math:`e` and an inverse :math:`g^{-1}` for every element. A **representation** assigns a matrix
:math:`\rho(g)` to every element so that products match, :math:`\rho(gh) = \rho(g)\rho(h)`; it is
how a group *acts* on a vector space: on the state of CartPole, on the cells of a grid, on a
policy's logits. Here every group is stored as the stack of its matrices in one faithful
representation, ``(|G|, d, d)``, and the product is matrix multiplication.

A function :math:`f` is **equivariant** when transforming its input transforms its output,
and **invariant** when the output does not change:

.. math::

    f(L_g x) = P_g f(x) \quad \text{(equivariant)}, \qquad f(L_g x) = f(x) \quad \text{(invariant)}
    \qquad \forall g \in G,

with :math:`L_g` the representation on the input and :math:`P_g` the one on the output.

An MDP is **symmetric** under :math:`G` (the simplest MDP homomorphism, Ravindran & Barto 2001)
when a state map :math:`L_g` and a state-dependent action map :math:`K_g` leave the dynamics and
the reward unchanged:

.. math::

    T(L_g s' \mid L_g s, K_g a) = T(s' \mid s, a), \qquad R(L_g s, K_g a) = R(s, a).

Then the optimal policy can be chosen equivariant, :math:`\pi^*(K_g a \mid L_g s) = \pi^*(a \mid s)`,
and a network that is equivariant by construction searches only among such policies
(van der Pol et al., 2020; :mod:`gnnrl_lite.symmetrizer` builds them). :func:`mdp_symmetry_error`
checks the condition by simulation for deterministic dynamics.

Shapes: a representation is ``(|G|, d, d)``; a batch of inputs is ``(B, d)`` and is transformed as
``x @ L_g.T``; an action map is ``(|G|, A)`` with row ``g`` holding :math:`K_g a` for every ``a``.

To reuse: copy this file and ``checks.py``; needs numpy and torch.
Used in Chapter 6.

References
----------
Ravindran & Barto, *Symmetries and Model Minimization in Markov Decision Processes*, 2001.
van der Pol, Worrall, van Hoof, Oliehoek & Welling, *MDP Homomorphic Networks: Group Symmetries in
Reinforcement Learning*, NeurIPS 2020.
"""

from __future__ import annotations

from itertools import product
from typing import Callable, Sequence

import numpy as np
import torch

from .checks import check_positive_int

__all__ = ["cyclic_group", "dihedral_group", "sign_group", "cayley_table", "check_group_axioms", "is_representation",
           "regular_representation", "grid_representation", "permutation_matrices", "equivariance_error", "mdp_symmetry_error"]


def _as_stack(mats, name: str = "representation") -> np.ndarray:
    mats = np.asarray(mats, dtype=np.float64)
    if mats.ndim != 3 or mats.shape[1] != mats.shape[2] or len(mats) == 0:
        raise ValueError(f"{name} must be a non-empty stack of square matrices (|G|, d, d); got shape {mats.shape}")
    return mats


def cyclic_group(n: int) -> np.ndarray:
    r"""The rotations :math:`C_n` of the plane: :math:`R_k = \begin{pmatrix}\cos\theta_k & -\sin\theta_k\\ \sin\theta_k & \cos\theta_k\end{pmatrix}`, :math:`\theta_k = 2\pi k/n`.

    Returns ``(n, 2, 2)``, element ``k`` the counter-clockwise rotation by ``k`` turns of :math:`2\pi/n`
    (entries of :math:`C_2` and :math:`C_4` are exact integers).

    >>> cyclic_group(4)[1].astype(int).tolist()
    [[0, -1], [1, 0]]
    """
    check_positive_int(n, "n")
    theta = 2 * np.pi * np.arange(n) / n
    c, s = np.round(np.cos(theta), 12), np.round(np.sin(theta), 12)  # exact 0 and +-1 for n = 2, 4
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], 1)


def dihedral_group(n: int) -> np.ndarray:
    r"""The dihedral group :math:`D_n` (order :math:`2n`): the rotations of :func:`cyclic_group` followed by the
    reflections :math:`R_k M` with :math:`M = \mathrm{diag}(-1, 1)` (the mirror :math:`x \mapsto -x`). Returns ``(2n, 2, 2)``.

    >>> dihedral_group(4).shape
    (8, 2, 2)
    """
    rotations = cyclic_group(n)
    return np.concatenate([rotations, rotations @ np.diag([-1.0, 1.0])])


def sign_group(dim: int) -> np.ndarray:
    r"""The two-element group :math:`\{I_d, -I_d\}` acting on :math:`\mathbb{R}^d` by negation (CartPole's mirror). ``(2, d, d)``."""
    check_positive_int(dim, "dim")
    return np.stack([np.eye(dim), -np.eye(dim)])


def _find(mats: np.ndarray, m: np.ndarray, atol: float) -> int:
    hits = np.flatnonzero(np.abs(mats - m).reshape(len(mats), -1).max(1) <= atol)
    return int(hits[0]) if len(hits) else -1


def cayley_table(mats, atol: float = 1e-8) -> np.ndarray:
    """The multiplication table ``(|G|, |G|)``: entry ``[g, h]`` is the index of :math:`\\rho(g)\\rho(h)`.

    Raises ``ValueError`` if a product is not in the set (the set is not closed).

    >>> cayley_table(cyclic_group(4))[1].tolist()
    [1, 2, 3, 0]
    """
    mats = _as_stack(mats)
    table = np.array([[_find(mats, a @ b, atol) for b in mats] for a in mats])
    if (table < 0).any():
        g, h = np.argwhere(table < 0)[0]
        raise ValueError(f"the set is not closed: the product of elements {g} and {h} is not in it")
    return table


def check_group_axioms(mats, atol: float = 1e-8) -> dict[str, bool]:
    r"""Check the four group axioms for a set of matrices under matrix multiplication.

    Returns ``{"closure", "associativity", "identity", "inverses"}`` -> bool: every product
    :math:`AB` is in the set; :math:`(AB)C = A(BC)` for every triple; :math:`I` is in the set;
    every :math:`A` has an inverse :math:`A^{-1}` (with :math:`AA^{-1} = A^{-1}A = I`) in the set.

    >>> check_group_axioms(cyclic_group(4))
    {'closure': True, 'associativity': True, 'identity': True, 'inverses': True}
    >>> check_group_axioms(cyclic_group(4)[:2])["closure"]
    False
    """
    mats = _as_stack(mats)
    eye = np.eye(mats.shape[1])
    closure = all(_find(mats, a @ b, atol) >= 0 for a, b in product(mats, repeat=2))
    associativity = all(np.allclose((a @ b) @ c, a @ (b @ c), atol=atol) for a, b, c in product(mats, repeat=3))
    identity = _find(mats, eye, atol) >= 0
    inverses = all(any(np.allclose(a @ b, eye, atol=atol) and np.allclose(b @ a, eye, atol=atol) for b in mats) for a in mats)
    return {"closure": closure, "associativity": associativity, "identity": identity, "inverses": inverses}


def is_representation(table, mats, atol: float = 1e-8) -> bool:
    r"""Whether ``mats`` ``(|G|, d, d)`` respects the group's product: :math:`\rho(g)\rho(h) = \rho(gh)` for all ``g, h``."""
    table, mats = np.asarray(table), _as_stack(mats)
    if table.shape != (len(mats), len(mats)) or table.dtype.kind not in "iu" or table.min() < 0 or table.max() >= len(mats):
        raise ValueError(f"table must be (|G|, |G|) = ({len(mats)}, {len(mats)}) integers in [0, {len(mats)}) for "
                         f"{len(mats)} matrices; got shape {table.shape}")
    return all(np.allclose(mats[g] @ mats[h], mats[table[g, h]], atol=atol) for g, h in product(range(len(mats)), repeat=2))


def regular_representation(table) -> np.ndarray:
    r"""The regular representation: :math:`G` permuting its own elements, :math:`\rho(g) e_h = e_{gh}`. ``(|G|, |G|, |G|)``.

    Used for hidden layers of equivariant networks: its matrices are permutations, so they commute
    with any elementwise nonlinearity.

    >>> regular_representation(cayley_table(sign_group(1)))[1].astype(int).tolist()
    [[0, 1], [1, 0]]
    """
    table = np.asarray(table)
    n = len(table)
    if table.shape != (n, n) or not all(sorted(row) == list(range(n)) for row in table.tolist()):
        raise ValueError(f"table must be a (|G|, |G|) Cayley table whose rows are permutations of 0..|G|-1; got {table.shape}")
    rho = np.zeros((n, n, n))
    for g in range(n):
        rho[g, table[g], np.arange(n)] = 1.0  # column h has its 1 in row gh
    return rho


def permutation_matrices(perms) -> np.ndarray:
    """Permutation matrices ``(|G|, A, A)`` from an action map ``(|G|, A)``: matrix ``g`` sends ``e_a`` to ``e_{perms[g, a]}``."""
    perms = np.asarray(perms)
    if perms.ndim != 2 or perms.size == 0 or perms.dtype.kind not in "iu" or not all(sorted(row) == list(range(perms.shape[1])) for row in perms.tolist()):
        raise ValueError(f"perms must be (|G|, A) with every row a permutation of 0..A-1; got {perms.tolist()}")
    mats = np.zeros((len(perms), perms.shape[1], perms.shape[1]))
    for g, row in enumerate(perms):
        mats[g, row, np.arange(len(row))] = 1.0
    return mats


def grid_representation(mats2d, size: int) -> np.ndarray:
    r"""How 2-D rotations and reflections act on the cells of a ``size x size`` grid: ``(|G|, size^2, size^2)``.

    Cell ``(row, col)`` has plane coordinates :math:`(x, y) = (col - c, c - row)`, :math:`c = (size - 1) / 2`
    (x right, y up). Element ``g`` moves the content of that cell to the cell at :math:`\rho(g) (x, y)`, so a
    flattened grid ``v`` (row-major) becomes ``P_g v``. For :func:`cyclic_group` ``(4)`` element ``k``
    equals ``np.rot90(grid, k)`` (counter-clockwise quarter turns).

    >>> grid = np.arange(9.0).reshape(3, 3)
    >>> P = grid_representation(cyclic_group(4), 3)
    >>> bool(np.array_equal((P[1] @ grid.ravel()).reshape(3, 3), np.rot90(grid)))
    True
    """
    mats2d = _as_stack(mats2d, "mats2d")
    if mats2d.shape[1] != 2 or not np.allclose(mats2d, np.round(mats2d)):
        raise ValueError(f"mats2d must be integer 2x2 matrices (|G|, 2, 2), e.g. cyclic_group(4) or dihedral_group(4); got {mats2d.shape}")
    check_positive_int(size, "size")
    c = (size - 1) / 2
    rows, cols = np.divmod(np.arange(size * size), size)
    xy = np.stack([cols - c, c - rows])  # (2, size^2)
    out = np.zeros((len(mats2d), size * size, size * size))
    for g, m in enumerate(np.round(mats2d)):
        x, y = m @ xy
        row, col = np.round(c - y).astype(int), np.round(x + c).astype(int)
        dest = row * size + col
        if not (((row >= 0) & (row < size) & (col >= 0) & (col < size)).all() and len(np.unique(dest)) == size * size):
            raise ValueError(f"element {g} ({m.tolist()}) does not map the grid onto itself: use rotations and reflections "
                             "of the square (cyclic_group(4), dihedral_group(4) or their subgroups)")
        out[g, dest, np.arange(size * size)] = 1.0
    return out


def equivariance_error(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, in_rep, out_rep=None) -> float:
    r"""Largest :math:`|f(L_g x) - P_g f(x)|` over the group and the batch (``out_rep=None``: invariance, :math:`P_g = I`).

    ``f`` maps ``(B, d_in)`` to ``(B, d_out)``; ``in_rep`` is ``(|G|, d_in, d_in)`` and ``out_rep``
    ``(|G|, d_out, d_out)``, numpy or torch, with the same ``|G|``. Returns a float: 0 up to rounding
    for an equivariant ``f``.
    """
    L = torch.as_tensor(_as_stack(in_rep, "in_rep"), dtype=x.dtype)
    if x.ndim != 2 or x.shape[1] != L.shape[1]:
        raise ValueError(f"x must be a batch (B, {L.shape[1]}) matching in_rep; got {tuple(x.shape)}")
    y = f(x)
    P = None if out_rep is None else torch.as_tensor(_as_stack(out_rep, "out_rep"), dtype=y.dtype)
    if P is not None and (len(P) != len(L) or P.shape[1] != y.shape[1]):
        raise ValueError(f"out_rep must be (|G|, d_out, d_out) = ({len(L)}, {y.shape[1]}, {y.shape[1]}); got {tuple(P.shape)}")
    errs = [(f(x @ L[g].T) - (y if P is None else y @ P[g].T)).abs().max() for g in range(len(L))]
    return float(torch.stack(errs).max())


def mdp_symmetry_error(step: Callable, states: Sequence, actions: Sequence[int], state_rep, action_perms) -> dict[str, float]:
    r"""Check :math:`T(L_g s, K_g a) = L_g T(s, a)` and :math:`R(L_g s, K_g a) = R(s, a)` by simulation.

    ``step(state, action) -> (next_state, reward, terminated)`` is a deterministic simulator started
    from any state; every ``(state, action)`` pair in ``zip(states, actions)`` is simulated untransformed
    and under every group element. ``state_rep`` is ``(|G|, d, d)``, ``action_perms`` ``(|G|, A)``.

    Returns the largest state error :math:`\max |s'_g - L_g s'|`, the largest reward error and the
    number of transitions whose termination flag differs: all zero for a symmetric MDP.
    """
    L, perms = _as_stack(state_rep, "state_rep"), np.asarray(action_perms)
    if perms.ndim != 2 or len(perms) != len(L):
        raise ValueError(f"action_perms must be (|G|, A) with |G| = {len(L)}; got shape {perms.shape}")
    if len(states) != len(actions) or len(states) == 0:
        raise ValueError(f"states and actions must be non-empty and of equal length; got {len(states)} and {len(actions)}")
    state_err = reward_err = 0.0
    term_diff = 0
    for s, a in zip(states, actions):
        s = np.asarray(s, dtype=np.float64)
        s1, r, d = step(s, int(a))
        for g in range(len(L)):
            s1_g, r_g, d_g = step(L[g] @ s, int(perms[g, int(a)]))
            state_err = max(state_err, float(np.abs(np.asarray(s1_g) - L[g] @ np.asarray(s1)).max()))
            reward_err = max(reward_err, abs(float(r_g) - float(r)))
            term_diff += int(bool(d_g) != bool(d))
    return {"state": state_err, "reward": reward_err, "termination": term_diff}
