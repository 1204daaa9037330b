r"""Full-mode runs of Chapter 5: MLP, NerveNet and Snowflake trained with PPO on Centipede-n.

    python -m gnnrl_lite.experiments.centipede --sizes 6,12 --seeds 0,1,2 --steps 500000

Every run (model, size, seed) trains with Snowflake's PPO settings (:func:`ppo_config`) and, every
``--eval-every`` environment steps, plays ``--eval-episodes`` greedy episodes (the mean action) on
fixed seeds and appends one CSV row to ``--out``: the evaluation's mean return and length, and the
mean per-update KL divergence and clip fraction of the PPO iterations since the previous row (the
quantities of Snowflake's Table 1), with the command, seed, versions, commit and date.

Runs are **resumable**: PPO checkpoints its state to ``--checkpoints/<run>.pt`` (see
:func:`gnnrl_lite.algos.ppo.train`), rows already written are not written again, and a run whose
last row (``final`` = 1) is in the CSV is skipped. Kill the process at any time and start the same
command again. A finished run saves its policy's weights (about 0.3 MB for NerveNet) to
``--weights/<run>.pt`` for the zero-shot transfer matrix, loadable with
``torch.load(path, weights_only=True)``.

    python -m gnnrl_lite.experiments.centipede --transfer 4,6,8,12,20

evaluates every saved policy zero-shot on each listed size instead of training (the paper's
Figure 7; :func:`transfer`), one row per (policy, size) in ``--transfer-out``, also resumable.

Models: ``mlp`` (:class:`gnnrl_lite.policies.MLPActorCritic`, 64-64 tanh), ``nervenet``
(:class:`gnnrl_lite.nervenet.NerveNetActorCritic`) and ``snowflake`` (the same with
:func:`gnnrl_lite.nervenet.freeze` applied), all with running observation normalisation.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from ..checks import check_positive_int
from . import ResultsFile, results_path, run_metadata, seed_everything

__all__ = ["MODELS", "ppo_config", "make_policy", "evaluate", "run", "parse_weights_name", "transfer", "main"]

MODELS = ("mlp", "nervenet", "snowflake")


def ppo_config(total_timesteps: int, num_envs: int = 8):
    r"""Snowflake's PPO settings: 2048 steps per batch, minibatches of 256, 10 epochs, clip 0.1, lr 3e-4, grad clip 5.

    Also as in Snowflake: :math:`\gamma = 0.99`, GAE :math:`\lambda = 0.95`, no entropy term,
    normalised advantages, the learning rate decayed linearly to 0 (here over ``total_timesteps``;
    the code's default run is 1e7 steps). :func:`gnnrl_lite.algos.ppo.train` differs from the
    authors' PPO in ways that can matter when comparing numbers:

    - one Adam optimiser (eps 1e-5) for actor and critic on ``policy loss + 0.5 value loss``, where
      the papers step a separate value optimiser (loss coefficient 1) after each policy step, with
      TF's default eps 1e-8 for the GNN policy;
    - the gradient-norm clip at 5 is applied to actor and critic gradients together, so the critic's
      gradient changes how much the actor's is scaled down (the papers clip the GNN policy's
      gradient alone and do not clip the MLP policy's);
    - rollouts are ``num_envs`` fixed-length segments (8 x 256 steps) rather than complete episodes,
      and the value of the last observation is bootstrapped at time-limit truncations, where the
      papers never bootstrap (:math:`\delta = r - V` at every episode's last step);
    - advantages are normalised per minibatch, not per batch;
    - sampled actions are clipped to the action space, :math:`[-1, 1]`, before the environment
      steps, so the control cost :math:`c \sum_j a_j^2` is charged on the clipped action (the
      papers' environment charges the action it is given, before MuJoCo's control clamp);
      log-probabilities are those of the unclipped sample.

    The KL per update and clip fraction of Chapter 5 are measured under these settings for all three
    models alike.
    """
    from ..algos import ppo

    return ppo.PPOConfig(total_timesteps=total_timesteps, num_envs=num_envs, num_steps=2048 // num_envs, num_minibatches=8,
                         update_epochs=10, clip_coef=0.1, learning_rate=3e-4, max_grad_norm=5.0, gamma=0.99, gae_lambda=0.95,
                         ent_coef=0.0)


def make_policy(model: str, n: int) -> torch.nn.Module:
    """A fresh policy for Centipede-``n``: ``"mlp"``, ``"nervenet"`` or ``"snowflake"`` (NerveNet with encoder, message and decoder frozen)."""
    from ..envs.centipede import centipede_dims
    from ..nervenet import NerveNetActorCritic, freeze
    from ..policies import MLPActorCritic

    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    if model == "mlp":
        import gymnasium as gym

        dims = centipede_dims(n)
        action_space = gym.spaces.Box(-1.0, 1.0, (dims["action_dim"],), np.float32)
        return MLPActorCritic(dims["obs_dim"], action_space, (64, 64), "tanh", normalize_obs=True)
    policy = NerveNetActorCritic(n, normalize_obs=True)
    if model == "snowflake":
        freeze(policy)
    return policy


def evaluate(policy: torch.nn.Module, n: int, episodes: int) -> tuple[float, float]:
    """Mean return and length of ``episodes`` greedy episodes of Centipede-``n`` (seeds 10_000, 10_001, ...)."""
    from ..envs.centipede import CentipedeEnv
    from ..rollouts import run_episodes

    eps = run_episodes(policy, lambda: CentipedeEnv(n), episodes, num_envs=episodes, seed=10_000, deterministic=True)
    return float(np.mean([e["return"] for e in eps])), float(np.mean([e["length"] for e in eps]))


def run(model: str, n: int, seed: int, steps: int, *, out: ResultsFile, checkpoints: Path, weights: Path,
        eval_every: int, eval_episodes: int, num_envs: int = 8, command: str | None = None, cfg=None) -> None:
    """Train one (model, n, seed) run to ``steps`` environment steps, resuming if possible; see the module docstring.

    ``cfg`` (a :class:`~gnnrl_lite.algos.ppo.PPOConfig`) replaces :func:`ppo_config` (e.g. for a quick test).
    """
    from ..algos import ppo
    from ..envs import make_vec_env
    from ..envs.centipede import CentipedeEnv

    for name, value in (("steps", steps), ("eval_every", eval_every), ("eval_episodes", eval_episodes), ("num_envs", num_envs)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    run_id = f"{model}-n{n}-s{seed}"
    rows = out.read()
    written = set(rows.loc[rows["attempt"] == run_id, "step"].astype(int)) if not rows.empty else set()
    if not rows.empty and ((rows["attempt"] == run_id) & (rows["final"] == 1)).any():
        print(f"{run_id}: finished before, skipped")
        return
    ckpt = checkpoints / f"{run_id}.pt"
    if written and not ckpt.exists():  # rows of an unfinished attempt whose training state is gone
        raise RuntimeError(f"{out.path} has rows of the unfinished run {run_id} but its checkpoint {ckpt} is missing; "
                           f"restore the checkpoint to resume, or delete those rows to start the run afresh")
    seed_everything(seed)
    policy = make_policy(model, n)
    cfg = cfg if cfg is not None else ppo_config(steps, num_envs)
    meta = run_metadata(seed, command)
    since: list[dict] = []

    def callback(log: dict) -> bool:
        since.append(log)
        step, last = log["global_step"], log["iteration"] == cfg.num_iterations
        if step // eval_every == (step - cfg.batch_size) // eval_every and not last:  # evaluate when a multiple is crossed
            return False
        if step not in written:
            ret, length = evaluate(policy, n, eval_episodes)
            train = [r["charts/episodic_return"] for r in since if np.isfinite(r["charts/episodic_return"])]
            out.append({"model": model, "n": n, "seed": seed, "step": step, "eval_return": ret, "eval_length": length,
                        "train_return": float(np.mean(train)) if train else float("nan"),
                        "approx_kl": float(np.mean([r["losses/approx_kl"] for r in since])),
                        "clipfrac": float(np.mean([r["losses/clipfrac"] for r in since])),
                        "sps": float(log["charts/SPS"]), **{k: v for k, v in meta.items() if k != "seed"},
                        "attempt": run_id, "final": int(last)})
            written.add(step)
        since.clear()
        return False

    checkpoints.mkdir(parents=True, exist_ok=True)
    envs = make_vec_env(lambda: CentipedeEnv(n), num_envs)
    ppo.train(policy, envs, cfg, seed=seed, callback=callback, desc=run_id, checkpoint=ckpt, checkpoint_every=5)
    envs.close()
    if seed == 0:  # weights for the transfer matrix: one seed per (model, size) keeps them small
        weights.mkdir(parents=True, exist_ok=True)
        torch.save(policy.state_dict(), weights / f"{run_id}.pt")


def parse_weights_name(path: Path) -> tuple[str, int, int]:
    """``(model, legs, seed)`` from a weights file named like ``snowflake-n6-s0.pt`` (as :func:`run` saves them)."""
    match = re.fullmatch(rf"({'|'.join(MODELS)})-n(\d+)-s(\d+)", Path(path).stem)
    if match is None:
        raise ValueError(f"weights files are named <model>-n<legs>-s<seed>.pt with model in {MODELS}; got {Path(path).name!r}")
    return match[1], int(match[2]), int(match[3])


def transfer(weights: Path, sizes, episodes: int, *, out: ResultsFile, command: str | None = None, progress: bool = True):
    """Zero-shot transfer (Snowflake's Figure 7): every policy saved in ``weights``, evaluated greedily on every size in ``sizes``.

    For each weights file ``<model>-n<legs>-s<seed>.pt`` and each test size ``m`` it appends one
    row to ``out``: ``model``, ``n`` (legs trained on), ``seed``, ``n_test`` (= ``m``) and the mean
    greedy return and episode length of ``episodes`` episodes (:func:`evaluate`), with the command,
    versions, commit and date. The MLP only takes its own size, so it gets a row for ``m = n``
    alone. A (policy, size) pair already in ``out`` is not evaluated again, so an interrupted
    call resumes. Returns the rows of ``out`` for these weights and sizes as a ``DataFrame``.
    """
    from tqdm.std import tqdm

    files = sorted(Path(weights).glob("*.pt"))
    if not files:
        raise FileNotFoundError(f"no weights (*.pt) in {weights}: train the runs first (seed 0 saves its final weights)")
    sizes = [int(m) for m in sizes]
    if not sizes:
        raise ValueError("sizes must list at least one number of legs to test on")
    for m in sizes:
        if m < 4 or m % 2:
            raise ValueError(f"test sizes must be even numbers of legs of at least 4; got {m}")
    episodes = check_positive_int(episodes, "episodes")
    rows = out.read()
    have = set(rows[["model", "n", "seed", "n_test"]].itertuples(index=False, name=None)) if not rows.empty else set()
    plan, wanted = [], set()  # (file, model, legs, seed, test sizes still to evaluate)
    for path in files:
        model, n, seed = parse_weights_name(path)
        tests = [m for m in sizes if model != "mlp" or m == n]  # the MLP's input is sized for its own centipede
        wanted |= {(model, n, seed, m) for m in tests}
        plan.append((path, model, n, seed, [m for m in tests if (model, n, seed, m) not in have]))
    bar = tqdm(total=sum(len(p[-1]) for p in plan), desc="transfer", unit="eval", disable=not progress, file=sys.stderr, ncols=100)
    for path, model, n, seed, missing in plan:
        if not missing:
            continue
        policy = make_policy(model, n)
        policy.load_state_dict(torch.load(path, weights_only=True))
        policy.eval()
        for m in missing:
            ret, length = evaluate(policy, m, episodes)
            out.append({"model": model, "n": n, "seed": seed, "n_test": m, "eval_return": ret, "eval_length": length,
                        **{k: v for k, v in run_metadata(seed, command).items() if k != "seed"}})
            bar.update()
    bar.close()
    rows = out.read()
    return rows[[key in wanted for key in rows[["model", "n", "seed", "n_test"]].itertuples(index=False, name=None)]].reset_index(drop=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated, from " + ", ".join(MODELS))
    parser.add_argument("--sizes", default="6,12", help="comma-separated numbers of legs")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--steps", type=int, default=500_000, help="environment steps per run")
    parser.add_argument("--eval-every", type=int, default=20_480, help="environment steps between evaluations")
    parser.add_argument("--eval-episodes", type=int, default=5, help="greedy episodes per evaluation")
    parser.add_argument("--out", type=Path, default=results_path("ch05_centipede.csv"), help="CSV file of evaluations")
    parser.add_argument("--checkpoints", type=Path, default=Path("checkpoints/ch05"), help="folder of resumable PPO checkpoints")
    parser.add_argument("--weights", type=Path, default=results_path("ch05_weights"), help="folder of final weights (seed 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--transfer", default=None, metavar="SIZES",
                        help="instead of training: evaluate every policy in --weights on these comma-separated sizes")
    parser.add_argument("--transfer-out", type=Path, default=results_path("ch05_transfer.csv"), help="CSV file of the transfer matrix")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("DGLBACKEND", "pytorch")
    command = "python -m gnnrl_lite.experiments.centipede " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if args.transfer is not None:
        transfer(args.weights, [int(s) for s in args.transfer.split(",")], args.eval_episodes, out=ResultsFile(args.transfer_out), command=command)
        return 0
    out = ResultsFile(args.out)
    for n in (int(s) for s in args.sizes.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):  # seed-major: every model gets seed 0 first
            for model in args.models.split(","):
                run(model, n, seed, args.steps, out=out, checkpoints=args.checkpoints, weights=args.weights,
                    eval_every=args.eval_every, eval_episodes=args.eval_episodes, command=command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
