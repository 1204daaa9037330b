"""Throughput of Centipede-n in environment steps per second: raw MuJoCo, the Gymnasium env, PPO end to end.

    python scripts/bench_centipede.py [--n 6] [--seconds 20] [--ppo-steps 8192] [--threads 1] [--out results/ch05_throughput.csv]

Three numbers, measured one after the other in this process:

1. **raw simulator**: ``mujoco.mj_step`` with the env's frame skip on the compiled model, random
   controls, no Python environment around it (plus ``mj_rnePostConstraint``, which the env needs
   for real contact forces);
2. **Gymnasium env**: ``CentipedeEnv.step`` with random actions, resets included;
3. **PPO end to end**: :func:`gnnrl_lite.algos.ppo.train` with the NerveNet policy and PPO settings
   of the full-mode runs (:func:`gnnrl_lite.experiments.centipede.make_policy` and
   :func:`~gnnrl_lite.experiments.centipede.ppo_config`: 2048 steps per batch, minibatches of 256,
   10 epochs, observation normalisation), rollouts and updates together.

It prints the ratios to the raw rate and appends one CSV row per measurement (with the command,
versions, commit and date) to ``--out``. One thread for torch and DGL unless ``--threads`` says otherwise
(the simulator is always on one thread: MuJoCo steps serially).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _threads_requested(argv) -> str:
    """The ``--threads`` value, read before torch and DGL start their OpenMP pools (default 1)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", default="1")
    return early.parse_known_args(argv)[0].threads


os.environ["OMP_NUM_THREADS"] = _threads_requested(sys.argv[1:])  # --threads governs DGL's OpenMP kernels too
os.environ.setdefault("DGLBACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gnnrl_lite.algos import ppo  # noqa: E402
from gnnrl_lite.envs import make_vec_env  # noqa: E402
from gnnrl_lite.envs.centipede import CentipedeEnv  # noqa: E402
from gnnrl_lite.experiments import ResultsFile, run_metadata, seed_everything  # noqa: E402
from gnnrl_lite.experiments.centipede import make_policy, ppo_config  # noqa: E402


def raw_rate(n: int, seconds: float, rng: np.random.Generator) -> float:
    """``mj_step`` (frame skip) plus ``mj_rnePostConstraint`` per env step, random controls in [-1, 1]."""
    import mujoco

    env = CentipedeEnv(n)
    env.reset(seed=0)
    model, data = env.model, env.data
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            data.ctrl[:] = rng.uniform(-1.0, 1.0, model.nu)
            mujoco.mj_step(model, data, nstep=env.frame_skip)
            mujoco.mj_rnePostConstraint(model, data)
        steps += 100
        if steps % 1000 == 0:
            mujoco.mj_resetData(model, data)
    return steps / (time.perf_counter() - start)


def env_rate(n: int, seconds: float) -> float:
    """``CentipedeEnv.step`` with random actions, resetting when an episode ends."""
    env = CentipedeEnv(n)
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        steps += 100
    return steps / (time.perf_counter() - start)


def ppo_rate(n: int, steps: int, num_envs: int) -> float:
    """End-to-end PPO (rollouts and updates) with the NerveNet policy and PPO settings of the full-mode runs."""
    seed_everything(0)
    policy = make_policy("nervenet", n)  # with observation normalisation, as trained in Chapter 5
    cfg = ppo_config(steps, num_envs)
    envs = make_vec_env(lambda: CentipedeEnv(n), num_envs)
    start = time.perf_counter()
    result = ppo.train(policy, envs, cfg, seed=0, desc=f"PPO NerveNet Centipede-{n}")
    return result.history[-1]["global_step"] / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=6, help="legs (even, >= 4)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the raw and env measurements")
    parser.add_argument("--ppo-steps", type=int, default=8192, help="environment steps of the PPO measurement")
    parser.add_argument("--num-envs", type=int, default=8, help="parallel environments for PPO")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", type=Path, default=None, help="CSV file to append the measurements to")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rates = {
        "raw simulator": raw_rate(args.n, args.seconds, np.random.default_rng(0)),
        "Gymnasium env": env_rate(args.n, args.seconds),
        "PPO end to end (NerveNet)": ppo_rate(args.n, args.ppo_steps, args.num_envs),
    }
    raw = rates["raw simulator"]
    print(f"Centipede-{args.n}, {args.threads} torch thread(s):")
    for name, rate in rates.items():
        print(f"  {name:<28s} {rate:8.0f} steps/s   {rate / raw:6.1%} of raw")
    if args.out is not None:
        out = ResultsFile(args.out)
        meta = run_metadata(0, command="python scripts/bench_centipede.py " + " ".join(argv if argv is not None else sys.argv[1:]))
        attempt = ResultsFile.new_attempt()
        for j, (name, rate) in enumerate(rates.items()):
            out.append({"n": args.n, "threads": args.threads, "measure": name, "steps_per_s": rate, "of_raw": rate / raw,
                        **meta, "attempt": attempt, "final": int(j == len(rates) - 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
