r"""Prey: catch a randomly moving prey on a torus, seen from the agent; the C4 rotation symmetry of an MDP.

Description
-----------
The grid world of van der Pol et al. (2020), used in the chapter on symmetry: an agent and a prey
live on a toroidal ``size x size`` grid and the agent must step onto the prey. The agent sees the
grid centred on itself, so a quarter turn of the view together with the matching permutation of
the moves (:func:`rotate_view`, :func:`rotate_action`, :data:`ACTION_PERMUTATIONS`) maps the MDP
onto itself: same rewards, same terminations, rotated next observations. This is the symmetry an
MDP homomorphic network builds in.

Differences from the original (``ElisevanderPol/gridworld``): it draws a 1-channel 21x21 image,
the agent and the prey each a 3x3 glyph (the prey at the agent's position minus the prey's, the
mirror image of our offset), uses the global random generators and may start both on one cell; we
use the 7x7 one-hot view of the prey, draw from ``self.np_random``, start them on distinct cells,
and check the catch after the agent's move as well as after the prey's (the original checks only
after both, so the prey can step away from an agent that has just reached it). Its defaults are
ours: the prey moves with p = 0.15, -0.1 per step, +1 at the catch, time limit 100.

Observation Space
-----------------
``Box(0, 1, (size, size), float32)``, agent-centred: the agent is always at the centre cell
``(size // 2, size // 2)`` (not marked), the prey's cell is 1 and every other cell 0. The prey is
at centre + ``offset``, where ``offset = (drow, dcol)`` is the prey's position minus the agent's,
wrapped into ``[-(size // 2), size // 2]`` per axis. Rows go down, columns go right.

Action Space
------------
``Discrete(5)``: 0 stay, 1 up (row - 1), 2 right (column + 1), 3 down (row + 1), 4 left
(column - 1), wrapping around the torus. The moves are in clockwise order, so a quarter turn of
the view permutes them cyclically and leaves "stay" fixed.

Rewards
-------
``catch_reward``   (default ``+1``) at the catch, else ``step_reward`` (default ``-0.1``) per step.

Starting State
--------------
Agent and prey on distinct cells drawn uniformly from ``self.np_random``. ``reset`` accepts
``options={"agent": (row, col), "prey": (row, col)}`` (either or both; distinct cells in the grid)
to place them; a missing one is drawn from the remaining cells.

Episode End
-----------
One step: (1) the agent moves; if it is on the prey, reward ``catch_reward`` and termination.
(2) Otherwise the reward is ``step_reward`` and, with probability ``p_move``, the prey moves to
one of its 4 neighbours chosen uniformly (so agent and prey may swap cells without a catch);
(3) if that puts it on the agent, this is a catch too (``catch_reward``, termination).
Truncation after ``max_steps`` steps unless caught, inside the env (no ``TimeLimit`` wrapper
needed). ``info["offset"]`` (reset and step) is the prey's offset as a tuple of ints and
``info["shortest_path"]`` (reset) the toroidal Manhattan distance, the optimal episode length
when the prey stays still. Registered as ``gnnrl_lite/PreyGrid-v0`` on import.

Constructor arguments
---------------------
=================  =======  ==================================================
``size``           7        grid side, odd, at least 3
``p_move``         0.15     probability that the prey moves on a step
``step_reward``    -0.1     reward of a step without a catch
``catch_reward``   1.0      reward of the catch
``max_steps``      100      truncation
=================  =======  ==================================================

Example
-------
>>> env = PreyGridEnv(p_move=0.0)
>>> obs, info = env.reset(options={"agent": (3, 3), "prey": (1, 3)})
>>> info["offset"], info["shortest_path"], obs[1, 3]
((-2, 0), 2, 1.0)
>>> obs, reward, terminated, truncated, info = env.step(1)  # up
>>> reward, terminated, info["offset"]
(-0.1, False, (-1, 0))
>>> env.step(1)[1:3]  # up again: caught
(1.0, True)
>>> rotate_action(1), ACTION_PERMUTATIONS[1].tolist()  # a quarter turn maps up to left
(4, [0, 4, 1, 2, 3])

References
----------
van der Pol, Worrall, van Hoof, Oliehoek & Welling, *MDP Homomorphic Networks: Group Symmetries
in Reinforcement Learning*, NeurIPS 2020 (code: ``ElisevanderPol/gridworld``, ``grid_env.py``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

__all__ = ["PreyGridEnv", "MOVES", "ACTION_PERMUTATIONS", "ENV_ID", "rotate_view", "rotate_action"]

MOVES = np.array([[0, 0], [-1, 0], [0, 1], [1, 0], [0, -1]])
"""(row, column) change of each action: stay, up, right, down, left (the moves clockwise)."""
ENV_ID = "gnnrl_lite/PreyGrid-v0"
"""The Gymnasium id registered on import."""


def rotate_view(obs, k: int = 1):
    """Rotate observations ``(..., size, size)`` by ``k`` quarter turns counter-clockwise.

    Exactly ``np.rot90(obs, k, axes=(-2, -1))`` (a view), or ``torch.rot90(obs, k, dims=(-2, -1))``
    for a tensor. A prey at offset ``(drow, dcol)`` from the centre goes to ``(-dcol, drow)``.
    """
    if isinstance(obs, torch.Tensor):
        return torch.rot90(obs, int(k), dims=(-2, -1))
    return np.rot90(np.asarray(obs), int(k), axes=(-2, -1))


ACTION_PERMUTATIONS = np.array([[0] + [(a - 1 - k) % 4 + 1 for a in range(1, 5)] for k in range(4)])
"""``(4, 5)`` ints: row ``k`` maps each action to its image under ``k`` counter-clockwise quarter
turns. A quarter turn sends a move ``(drow, dcol)`` to ``(-dcol, drow)``: up to left, right to up,
down to right, left to down, so each move goes one place back in the clockwise list: ``[0, 4, 1, 2, 3]``."""
ACTION_PERMUTATIONS.setflags(write=False)


def rotate_action(action, k: int = 1):
    """The action matching :func:`rotate_view` ``(., k)``: ``ACTION_PERMUTATIONS[k % 4][action]``.

    Stepping from the rotated state with the rotated action gives the rotated next observation
    with the same reward and termination. ``action`` is an int (an int comes back) or an integer
    array or tensor of any shape (the same type comes back).
    """
    perm = ACTION_PERMUTATIONS[int(k) % 4]
    arr = action.detach().cpu().numpy() if isinstance(action, torch.Tensor) else np.asarray(action)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"action must be an integer, or an integer array or tensor; got {action!r}")
    if arr.size and (arr.min() < 0 or arr.max() > 4):
        raise ValueError(f"actions must lie in [0, 5); got {action!r}")
    if isinstance(action, torch.Tensor):
        return torch.as_tensor(perm[arr], device=action.device)
    return perm[arr] if isinstance(action, np.ndarray) or arr.ndim else int(perm[arr])


class PreyGridEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, size: int = 7, p_move: float = 0.15, step_reward: float = -0.1, catch_reward: float = 1.0,
                 max_steps: int = 100):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 3 or size % 2 == 0:
            raise ValueError(f"size must be an odd integer >= 3 (the agent sits at the centre cell); got {size!r}")
        if not 0.0 <= p_move <= 1.0:
            raise ValueError(f"p_move must lie in [0, 1]; got {p_move!r}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive integer; got {max_steps!r}")
        self.size, self.p_move, self.max_steps = int(size), float(p_move), int(max_steps)
        self.step_reward, self.catch_reward = float(step_reward), float(catch_reward)
        self.observation_space = spaces.Box(0.0, 1.0, (self.size, self.size), np.float32)
        self.action_space = spaces.Discrete(5)
        self._agent = self._prey = None
        self._steps = 0

    @property
    def agent(self) -> tuple[int, int]:
        """The agent's cell ``(row, col)`` on the torus."""
        return tuple(int(x) for x in self._agent)

    @property
    def prey(self) -> tuple[int, int]:
        """The prey's cell ``(row, col)`` on the torus."""
        return tuple(int(x) for x in self._prey)

    def _offset(self) -> np.ndarray:
        h = self.size // 2
        return (self._prey - self._agent + h) % self.size - h

    def _get_obs(self) -> np.ndarray:
        obs = np.zeros((self.size, self.size), np.float32)
        row, col = self._offset() + self.size // 2
        obs[row, col] = 1.0
        return obs

    def _check_cell(self, cell, name: str) -> np.ndarray:
        arr = np.asarray(cell)
        if arr.shape != (2,) or arr.dtype.kind not in "iu" or not ((arr >= 0) & (arr < self.size)).all():
            raise ValueError(f"options[{name!r}] must be a (row, col) pair of integers in [0, {self.size}); got {cell!r}")
        return arr.astype(np.int64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"agent", "prey"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; expected 'agent' and/or 'prey'")
        fixed = {name: self._check_cell(cell, name) for name, cell in options.items()}
        if len(fixed) == 2 and (fixed["agent"] == fixed["prey"]).all():
            raise ValueError(f"agent and prey must start on distinct cells; both are {tuple(fixed['agent'].tolist())}")
        taken = {int(c[0]) * self.size + int(c[1]) for c in fixed.values()}
        free = [c for c in range(self.size * self.size) if c not in taken]
        drawn = [np.array(divmod(int(c), self.size)) for c in self.np_random.choice(free, size=2 - len(fixed), replace=False)]
        self._agent = fixed["agent"] if "agent" in fixed else drawn.pop()
        self._prey = fixed["prey"] if "prey" in fixed else drawn.pop()
        self._steps = 0
        offset = self._offset()
        return self._get_obs(), {"offset": tuple(offset.tolist()), "shortest_path": int(np.abs(offset).sum())}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in [0, 5); got {action!r}")
        self._agent = (self._agent + MOVES[int(action)]) % self.size
        caught = bool((self._agent == self._prey).all())
        if not caught and self.np_random.random() < self.p_move:
            self._prey = (self._prey + MOVES[1 + int(self.np_random.integers(4))]) % self.size
            caught = bool((self._agent == self._prey).all())
        self._steps += 1
        truncated = not caught and self._steps >= self.max_steps
        reward = self.catch_reward if caught else self.step_reward
        return self._get_obs(), reward, caught, truncated, {"offset": tuple(self._offset().tolist())}


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=f"{__name__}:PreyGridEnv")
