"""RL algorithms: :mod:`gnnrl_lite.algos.ppo` (PPO + GAE) and :mod:`gnnrl_lite.algos.dqn` (DQN, n-step, masks)."""

from . import dqn, ppo
from .ppo import PPOConfig, PPOResult, Evaluator, compute_gae, evaluate, train

__all__ = ["dqn", "ppo", "PPOConfig", "PPOResult", "Evaluator", "compute_gae", "evaluate", "train"]
