"""gnnrl_lite: the small, copyable package behind *Reinforcement Learning with Graph Neural Networks*.

Modules, one idea each, with dependencies flowing one way
(``checks`` <- ``graphs`` <- ``nn`` <- ``distributions`` <- ``policies`` <- ``algos``):

- :mod:`gnnrl_lite.experiments`: seeding, the CI/full mode switch, timers, result files, claim tables.
- :mod:`gnnrl_lite.checks`: input validation shared by every module.
- :mod:`gnnrl_lite.graphs`: ``gymnasium.spaces.Graph`` <-> ``DGLGraph``, batching, action masks.
- :mod:`gnnrl_lite.nn`: MLPs, message passing (MPNN, gated MPNN) and readouts on DGL.
- :mod:`gnnrl_lite.distributions`: masked categorical distributions over variable action sets.
- :mod:`gnnrl_lite.policies`: actor-critic modules (MLP, GNN feature extractor, node and neighbour scoring, random).
- :mod:`gnnrl_lite.heads`: heads that choose a node (per-node Q-values, the proto-action) or an edge (edge scores, the line graph).
- :mod:`gnnrl_lite.nervenet`: NerveNet on a robot's morphology graph, and Snowflake's parameter freezing.
- :mod:`gnnrl_lite.symmetry`: finite groups as matrices, their actions on vectors and grids, symmetry checks.
- :mod:`gnnrl_lite.symmetrizer`: equivariant linear layers and policies built with the Symmetrizer.
- :mod:`gnnrl_lite.egnn`: E(n)-equivariant graph layers (EGNN, E2GN2) and the coordinate-input GNN baseline.
- :mod:`gnnrl_lite.marl`: simple spread's agents as a vector env of agent streams (independent PPO with parameter sharing) and E2GN2 team policies.
- :mod:`gnnrl_lite.combinatorial`: random graphs, exact (milp) and heuristic vertex covers and independent sets.
- :mod:`gnnrl_lite.algos.ppo`: PPO with GAE for vectorised Gymnasium environments.
- :mod:`gnnrl_lite.algos.dqn`: DQN with replay, n-step returns and action masks.
- :mod:`gnnrl_lite.rollouts`: batched evaluation of many episodes at once.
- :mod:`gnnrl_lite.supervised`: a full-batch node-classification loop (Chapter 1).
- :mod:`gnnrl_lite.plotting`: learning curves with standard-error bands.
- :mod:`gnnrl_lite.envs`: small environments used in the book and its tests, and MLP-baseline wrappers.
"""

import os as _os

# DGL prints a warning and writes ~/.dgl/config.json when no backend is chosen; we only use PyTorch.
_os.environ.setdefault("DGLBACKEND", "pytorch")

__version__ = "0.1.0"

__all__ = ["__version__"]
