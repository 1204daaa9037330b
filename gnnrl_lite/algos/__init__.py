"""RL algorithms: :mod:`gnnrl_lite.algos.ppo` (PPO + GAE)."""

from . import ppo
from .ppo import PPOConfig, PPOResult, Evaluator, compute_gae, evaluate, train

__all__ = ["ppo", "PPOConfig", "PPOResult", "Evaluator", "compute_gae", "evaluate", "train"]
