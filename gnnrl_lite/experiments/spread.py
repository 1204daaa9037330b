r"""Chapter 7's runs: MLP, GNN, EGNN and E2GN2 trained with independent PPO on simple spread, then tested off-layout.

    python -m gnnrl_lite.experiments.spread --kinds e2gn2,gnn --seeds 0,1,2,3,4 --steps 300000

One run (:func:`run`) trains one policy kind with one seed on simple spread with **every start in
the left half** of the arena (``region="left"``, the transplant of E2GN2's SMACv2 "surrounded
left" layout), with :func:`ppo_config`'s settings, and then evaluates the greedy policy (the mean
movement) on fixed test sets of :data:`EVAL_EPISODES` starting states (:func:`test_starts`):

- ``left``: the training layout;
- ``right``: the **mirror images** :math:`x \mapsto -x` of the ``left`` starts
  (:func:`mirror_x`), so the two sets differ only by the reflection;
- ``all``: starts drawn from the whole arena;
- ``left`` with 4, 5 and 6 agents (and as many landmarks), graph policies only (the MLP's input
  size is fixed).

It returns one row per :data:`CURVE_EVERY` PPO iterations (``what="curve"``: the mean training
return per agent) and one row per test (``what="eval"``: the mean return per agent ``ret`` and,
on the same starts, a policy that never moves ``zero_ret``). Returns are **per agent** (one
stream of :class:`~gnnrl_lite.marl.SpreadAgents`); RLlib's team return is :math:`N` times larger.

The command line runs :func:`run` for every (kind, seed) through
:meth:`~gnnrl_lite.experiments.ResultsFile.fetch_or_run`, appending to ``results/ch07_spread.csv``
with the command, seed, versions and date; finished runs are skipped, so it resumes, and two
processes with different ``--kinds`` can share the file (one per core; start the second once the first has
written its header row). The chapter reads the same
file in full mode.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

import numpy as np
import torch

from . import ResultsFile, results_path, seed_everything

__all__ = ["KINDS", "EVAL_EPISODES", "TEAM_SIZES", "CURVE_EVERY", "ppo_config", "make_policy", "with_team_size",
           "test_starts", "mirror_x", "greedy_rollout", "team_return", "run", "main"]

KINDS = ("mlp", "gnn", "egnn", "e2gn2")
"""Policy kinds: an MLP on mpe2's own observation, and :class:`~gnnrl_lite.marl.GraphTeamActorCritic`'s three."""
EVAL_EPISODES = 128
"""Starting states per test set."""
TEAM_SIZES = (4, 5, 6)
"""Team sizes the graph policies are tested on without retraining (trained with 3)."""
CURVE_EVERY = 5
"""PPO iterations per learning-curve row."""
EVAL_SEED = 7_000
"""Seed of the test starts (the same for every run, so tests are paired across policies)."""


def ppo_config(total_timesteps: int, copies: int = 16, num_agents: int = 3, learning_rate: float = 1e-3):
    """PPO settings of the chapter: ``copies`` scenes of ``num_agents`` streams, 25-step rollouts (one episode), 4 epochs of 4 minibatches.

    CleanRL's defaults otherwise (clip 0.2, gamma 0.99, lambda 0.95, advantage normalisation,
    gradient clip 0.5, linear learning-rate decay, no entropy bonus), with learning rate 1e-3.
    ``total_timesteps`` counts agent steps (one per stream).
    """
    from ..algos.ppo import PPOConfig

    return PPOConfig(total_timesteps=total_timesteps, num_envs=copies * num_agents, num_steps=25, num_minibatches=4,
                     update_epochs=4, learning_rate=learning_rate, ent_coef=0.0)


def make_policy(kind: str, num_agents: int = 3, log_std_init: float = -1.0) -> torch.nn.Module:
    r"""A fresh policy of ``kind`` (:data:`KINDS`) for ``num_agents`` agents and as many landmarks.

    ``"mlp"``: :class:`~gnnrl_lite.policies.MLPActorCritic` (64-64 tanh) on ``obs="mpe"``; the graph
    kinds: :class:`~gnnrl_lite.marl.GraphTeamActorCritic` with hidden width 32 and **one**
    message-passing layer per network (on a complete graph one layer already sees every entity; two
    layers cost twice the time and, for E2GN2, scale the initial mean by a second
    :math:`\phi_{u2} \approx \pm 0.03`). Every kind starts with :math:`\sigma = e^{-1} \approx 0.37`
    (movements are clipped to :math:`[-1, 1]^2`, so :math:`\sigma = 1` would be mostly noise).
    """
    from gymnasium import spaces

    from ..marl import GraphTeamActorCritic
    from ..policies import MLPActorCritic

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if kind == "mlp":
        obs_dim = 4 + 2 * num_agents + 4 * (num_agents - 1)  # mpe2's observation with L = N
        policy = MLPActorCritic(obs_dim, spaces.Box(-1.0, 1.0, (2,), np.float32), (64, 64), "tanh")
        with torch.no_grad():
            policy.log_std.fill_(log_std_init)
        return policy
    return GraphTeamActorCritic(kind, num_agents=num_agents, hidden=32, layers=1, log_std_init=log_std_init)


def with_team_size(policy: torch.nn.Module, num_agents: int) -> torch.nn.Module:
    """The same trained graph policy for ``num_agents`` agents (and landmarks): a new module with the same weights.

    A :class:`~gnnrl_lite.marl.GraphTeamActorCritic`'s parameters do not depend on the team size,
    so the state dict loads unchanged. An MLP's input size does, and it raises ``TypeError``.
    """
    from ..marl import GraphTeamActorCritic

    if not isinstance(policy, GraphTeamActorCritic):
        raise TypeError(f"only a GraphTeamActorCritic can change team size (its weights do not depend on it); "
                        f"got {type(policy).__name__}, whose input size is fixed")
    layers = policy.actor.num_layers
    new = GraphTeamActorCritic(policy.kind, num_agents=num_agents, hidden=policy.actor.hidden, layers=layers,
                               speed=policy.speed)
    new.load_state_dict(policy.state_dict())
    return new


def test_starts(episodes: int = EVAL_EPISODES, num_agents: int = 3, region: str = "left", seed: int = EVAL_SEED) -> np.ndarray:
    """``(episodes, 2 N, 2)`` starting positions (agents, then ``N`` landmarks) drawn as simple spread draws them in ``region``."""
    from ..envs.spread import SpreadVecEnv

    env = SpreadVecEnv(episodes, num_agents, continuous_actions=True, region=region)
    env.reset(seed=seed)
    return env.positions()


def mirror_x(positions: np.ndarray) -> np.ndarray:
    r"""Reflect positions ``(..., 2)`` in the y axis, :math:`(x, y) \mapsto (-x, y)`: left-half starts become right-half starts."""
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim < 1 or positions.shape[-1] != 2:
        raise ValueError(f"positions must have a last axis of size 2 (x, y); got shape {positions.shape}")
    return positions * np.array([-1.0, 1.0])


def greedy_rollout(policy, positions: np.ndarray, num_agents: int, obs: str = "scene") -> tuple[np.ndarray, np.ndarray]:
    """One greedy episode (the policy's mean movement) from each start in ``positions``, all side by side.

    ``policy=None`` stands still (zero movement). ``positions`` is ``(E, 2 N, 2)``
    (:func:`test_starts`). Returns each stream's return ``(E N,)`` (stream ``e N + i`` is agent
    ``i`` of episode ``e``) and the positions before every step, ``(T, E, 2 N, 2)`` with ``T``
    the episode length (25): the start, then after each of the first ``T - 1`` steps.
    """
    from ..marl import SpreadAgents

    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (2 * num_agents, 2):
        raise ValueError(f"positions must have shape (E, {2 * num_agents}, 2) for {num_agents} agents; got {positions.shape}")
    env = SpreadAgents(positions.shape[0], num_agents, obs=obs)
    o, _ = env.reset(options={"positions": positions})
    total, paths = np.zeros(env.num_envs), []
    for _ in range(env.spread.max_cycles):
        paths.append(env.spread.positions())
        if policy is None:
            action = np.zeros((env.num_envs, 2), np.float32)
        else:
            with torch.no_grad():
                o = torch.as_tensor(o)
                action = (policy.mean_movement(o) if hasattr(policy, "mean_movement") else policy(o)[0].mean).numpy()
        o, r, _, truncated, _ = env.step(action)
        total += r
    assert truncated.all(), "one test episode is max_cycles steps"
    return total, np.stack(paths)


def team_return(policy, positions: np.ndarray, num_agents: int, obs: str = "scene") -> float:
    """Mean return per agent of :func:`greedy_rollout` (``policy=None``: standing still, the baseline ``zero_ret``)."""
    return float(greedy_rollout(policy, positions, num_agents, obs)[0].mean())


def _tests(kind: str) -> list[tuple[str, int, np.ndarray]]:
    left = test_starts()
    tests = [("left", 3, left), ("right", 3, mirror_x(left)), ("all", 3, test_starts(region="all"))]
    if kind != "mlp":
        tests += [("left", n, test_starts(num_agents=n)) for n in TEAM_SIZES]
    return tests


def run(kind: str, seed: int, steps: int, *, learning_rate: float = 1e-3, progress: bool = True) -> list[dict]:
    """Train ``kind`` with ``seed`` for ``steps`` agent steps in the left half, then test it (module docstring); returns the rows.

    Every row has ``what`` (``"curve"`` or ``"eval"``), ``step``, ``region``, ``agents``, ``ret``,
    ``zero_ret`` (NaN on curve rows) and ``wall_s`` (training time, on every row).
    """
    import time

    from ..algos import ppo
    from ..marl import SpreadAgents

    obs = "mpe" if kind == "mlp" else "scene"
    seed_everything(seed)
    policy = make_policy(kind)
    cfg = ppo_config(steps, learning_rate=learning_rate)
    envs = SpreadAgents(cfg.num_envs // 3, 3, obs=obs, region="left", seed=seed)
    start = time.perf_counter()
    result = ppo.train(policy, envs, cfg, seed=seed, progress=progress, desc=f"{kind} seed {seed}")
    wall = time.perf_counter() - start
    rows = []
    history = result.history
    for i in range(0, len(history), CURVE_EVERY):
        chunk = history[i:i + CURVE_EVERY]
        rows.append({"what": "curve", "step": chunk[-1]["global_step"], "region": "left", "agents": 3,
                     "ret": float(np.nanmean([h["charts/episodic_return"] for h in chunk])), "zero_ret": float("nan")})
    policy.eval()
    for region, n, starts in _tests(kind):
        tested = policy if n == 3 else with_team_size(policy, n)
        rows.append({"what": "eval", "step": result.global_step, "region": region, "agents": n,
                     "ret": team_return(tested, starts, n, obs), "zero_ret": team_return(None, starts, n, obs)})
    return [{**row, "wall_s": wall} for row in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated, from " + ", ".join(KINDS))
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    parser.add_argument("--steps", type=int, default=300_000, help="agent steps per run")
    parser.add_argument("--out", default=str(results_path("ch07_spread.csv")), help="CSV file of results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault("DGLBACKEND", "pytorch")
    os.environ.setdefault("GNNRL_COMMAND", "python -m gnnrl_lite.experiments.spread "
                          + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))
    out = ResultsFile(args.out)
    for seed in (int(s) for s in args.seeds.split(",")):
        for kind in args.kinds.split(","):
            out.fetch_or_run({"kind": kind, "seed": seed, "steps": args.steps}, lambda: run(kind, seed, args.steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
