"""Throughput of simple spread: :class:`gnnrl_lite.envs.spread.SpreadVecEnv` against mpe2's ``parallel_env``.

    python scripts/bench_spread.py [--num-envs 64] [--agents 3] [--seconds 3]

Both run random continuous actions (drawn in advance, float32 in [0, 1]) with resets included:
``SpreadVecEnv(num_envs)`` steps all copies with one call (same-step autoreset), mpe2's
``simple_spread_v3.parallel_env(continuous_actions=True)`` one copy per call, with a dict of
actions and ``reset()`` whenever its agents are gone. The unit is the **env step**: one move of
all ``N`` agents of one copy (an agent step is ``N`` times smaller; the ratio is the same). The
target set for the port is a ratio of at least 50 at ``num_envs=64``. Run it on a quiet machine:
the numbers are wall-clock rates of one process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gnnrl_lite.envs.spread import SpreadVecEnv  # noqa: E402

POOL = 64
"""Pre-drawn action batches cycled through, so that drawing actions costs nothing in the loop."""


def ours_env_steps_per_second(num_envs: int = 64, num_agents: int = 3, seconds: float = 3.0, seed: int = 0) -> float:
    """Env steps per second of ``SpreadVecEnv(num_envs, num_agents)`` (``num_envs`` per ``step`` call)."""
    env = SpreadVecEnv(num_envs, num_agents, seed=seed)
    env.reset()
    pool = np.random.default_rng(seed).random((POOL, num_envs, num_agents, 5), dtype=np.float32)
    calls, start = 0, time.perf_counter()
    while True:
        for k in range(POOL):
            env.step(pool[k])
        calls += POOL
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * num_envs / elapsed


def mpe2_env_steps_per_second(num_agents: int = 3, seconds: float = 3.0, seed: int = 0) -> float:
    """Env steps per second of one ``mpe2.simple_spread_v3.parallel_env`` (continuous actions)."""
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env(N=num_agents, continuous_actions=True, max_cycles=25, local_ratio=0.5)
    env.reset(seed=seed)
    names = list(env.possible_agents)
    pool = np.random.default_rng(seed).random((POOL, num_agents, 5), dtype=np.float32)
    steps, start = 0, time.perf_counter()
    while True:
        for k in range(POOL):
            if not env.agents:
                env.reset()
            env.step({name: pool[k, i] for i, name in enumerate(names)})
        steps += POOL
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps / elapsed


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    ours = ours_env_steps_per_second(args.num_envs, args.agents, args.seconds)
    ref = mpe2_env_steps_per_second(args.agents, args.seconds)
    print(f"SpreadVecEnv(num_envs={args.num_envs}, N={args.agents}): {ours:12,.0f} env steps/s ({ours * args.agents:,.0f} agent steps/s)")
    print(f"mpe2 parallel_env(N={args.agents}):             {ref:12,.0f} env steps/s ({ref * args.agents:,.0f} agent steps/s)")
    print(f"ratio: {ours / ref:.0f}x (target >= 50x)")
    return {"ours": ours, "mpe2": ref, "ratio": ours / ref}


if __name__ == "__main__":
    main()
