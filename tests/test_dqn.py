"""DQN: masked greedy and random actions, n-step replay, config checks, and smoke tests on fixed and node actions."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import dgl

from gnnrl_lite.algos import dqn
from gnnrl_lite.algos.ppo import evaluate
from gnnrl_lite.envs import PickMaxNodeEnv, make_vec_env
from gnnrl_lite.graphs import collate_obs, pad_by_graph
from gnnrl_lite.nn import MLP, GatedMPNN


def test_masked_argmax_ignores_invalid_actions():
    """The arg max is taken over valid actions only, even when an invalid one has the largest Q."""
    q = torch.tensor([[5.0, 1.0, 2.0], [0.0, 3.0, -1.0]])
    mask = torch.tensor([[False, True, True], [True, False, True]])
    assert dqn.masked_argmax(q, mask).tolist() == [2, 0], "masked arg max must skip invalid actions"
    assert dqn.masked_argmax(q, None).tolist() == [0, 1], "without a mask it is the plain arg max"
    with pytest.raises(ValueError, match="no valid action"):
        dqn.masked_argmax(q, torch.zeros(2, 3, dtype=torch.bool))


def test_random_valid_actions_stay_in_the_mask():
    """Random exploration draws only valid actions, and every valid action eventually."""
    rng = np.random.default_rng(0)
    mask = torch.tensor([[True, False, True, False], [False, False, False, True]])
    draws = np.stack([dqn.random_valid_actions(mask, 4, 2, rng) for _ in range(200)])
    assert set(draws[:, 0]) == {0, 2} and set(draws[:, 1]) == {3}, "draws must cover exactly the valid actions"
    assert set(dqn.random_valid_actions(None, 3, 50, rng)) <= {0, 1, 2}


def test_replay_buffer_n_step_returns():
    """3-step returns sum discounted rewards, stop at an episode's end, and record gamma^m and done."""
    buf = dqn.ReplayBuffer(capacity=100, num_envs=1, n_step=3, gamma=0.5)
    obs = [np.array([float(t)]) for t in range(6)]
    rewards = [1.0, 2.0, 4.0, 8.0]
    for t, r in enumerate(rewards):
        end = t == 3
        buf.add_step([obs[t]], [t], [r], [obs[t + 1]], [end], [False], [obs[t + 1] if end else None])
    items = sorted(buf.storage, key=lambda it: it[1])
    returns = [it[2] for it in items]
    assert returns == [1 + 0.5 * 2 + 0.25 * 4, 2 + 0.5 * 4 + 0.25 * 8, 4 + 0.5 * 8, 8.0], "n-step returns"
    assert [it[5] for it in items] == [0.125, 0.125, 0.25, 0.5], "discount gamma^m of the bootstrap"
    assert [it[4] for it in items] == [0.0, 1.0, 1.0, 1.0], "transitions reaching the terminal state are done"
    assert float(items[0][3][0]) == 3.0, "the first transition bootstraps from s_3"


def test_replay_buffer_truncation_bootstraps_and_capacity():
    """A truncated episode is not done (it bootstraps from the final observation); the ring keeps capacity items."""
    buf = dqn.ReplayBuffer(capacity=2, num_envs=1, n_step=1, gamma=0.9)
    buf.add_step([np.zeros(1)], [0], [1.0], [np.ones(1)], [False], [True], [np.full(1, 7.0)])
    assert buf.storage[0][4] == 0.0 and float(buf.storage[0][3][0]) == 7.0, "truncation: not done, next state = final obs"
    for _ in range(3):
        buf.add_step([np.zeros(1)], [0], [1.0], [np.ones(1)], [False], [False], [None])
    assert len(buf) == 2, "the ring buffer must not grow past its capacity"
    obs, act, ret, nxt, done, disc = buf.sample(5, np.random.default_rng(0))
    assert len(obs) == 5 and act.shape == ret.shape == done.shape == disc.shape == (5,)
    with pytest.raises(ValueError, match="empty"):
        dqn.ReplayBuffer(4, 1, 1, 0.9).sample(1, np.random.default_rng(0))


def test_dqn_config_validation_and_epsilon():
    """Bad values raise ValueError naming the field; epsilon decays linearly to end_e."""
    cfg = dqn.DQNConfig(total_timesteps=100, exploration_fraction=0.5, start_e=1.0, end_e=0.1)
    assert cfg.epsilon(0) == 1.0 and abs(cfg.epsilon(25) - 0.55) < 1e-9 and cfg.epsilon(90) == 0.1
    for kwargs, field in (({"n_step": 0}, "n_step"), ({"gamma": 1.5}, "gamma"), ({"end_e": -0.1}, "end_e"),
                          ({"batch_size": True}, "batch_size"), ({"learning_rate": 0}, "learning_rate")):
        with pytest.raises(ValueError, match=field):
            dqn.DQNConfig(**kwargs)


def test_dqn_trains_on_cartpole_and_logs_keys():
    """A tiny DQN run on CartPole logs the documented keys, updates the network, and evaluates greedily."""
    envs = make_vec_env("CartPole-v1", 2)
    q = MLP(4, (16,), 2)
    before = [p.detach().clone() for p in q.parameters()]
    cfg = dqn.DQNConfig(total_timesteps=400, num_envs=2, learning_starts=50, batch_size=16, train_frequency=2,
                        target_network_frequency=50, n_step=2, log_every=100)
    result = dqn.train(q, envs, cfg, progress=False)
    keys = {"global_step", "charts/episodic_return", "charts/epsilon", "losses/td_loss", "losses/q_values", "charts/SPS"}
    assert result.history and keys <= set(result.history[-1]), "documented log keys"
    assert any(not torch.equal(a, b) for a, b in zip(before, q.parameters())), "the Q-network must be updated"
    returns = evaluate(dqn.GreedyPolicy(q), gym.make("CartPole-v1"), episodes=2)
    assert returns.shape == (2,)


def test_dqn_rejects_bad_envs():
    """DQN needs a SAME_STEP vector env with a Discrete action space and matching num_envs."""
    q = MLP(4, (8,), 2)
    with pytest.raises(ValueError, match="num_envs"):
        dqn.train(q, make_vec_env("CartPole-v1", 2), dqn.DQNConfig(num_envs=1), progress=False)
    with pytest.raises(ValueError, match="SAME_STEP"):
        dqn.train(q, gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")]), dqn.DQNConfig(), progress=False)
    with pytest.raises(TypeError, match="Discrete"):
        dqn.train(q, make_vec_env("Pendulum-v1", 1), dqn.DQNConfig(), progress=False)


class _NodeQ(nn.Module):
    """Q(G, v) = MLP(h_v) over a batch of graphs, padded to the largest graph, with the node mask."""

    collate = staticmethod(functools.partial(collate_obs, node_mask=True))

    def __init__(self):
        super().__init__()
        self.enc, self.head = GatedMPNN(1, 16, 2), MLP(16, (16,), 1)

    def forward(self, g: dgl.DGLGraph):
        q = self.head(self.enc(g, g.ndata["x"])).squeeze(-1)
        q_pad, valid = pad_by_graph(q, g.batch_num_nodes())
        mask, _ = pad_by_graph(g.ndata["mask"], g.batch_num_nodes(), fill=False)
        return q_pad, valid & mask


def test_dqn_with_node_actions_never_picks_an_invalid_node():
    """DQN on PickMaxNodeEnv (nodes as actions, variable graph sizes) runs and never takes a masked node."""
    envs = make_vec_env(PickMaxNodeEnv, 2)
    cfg = dqn.DQNConfig(total_timesteps=300, num_envs=2, learning_starts=40, batch_size=16, train_frequency=2,
                        target_network_frequency=40, log_every=100)
    q = _NodeQ()
    dqn.train(q, envs, cfg, progress=False)
    env = PickMaxNodeEnv()
    policy = dqn.GreedyPolicy(q)
    for k in range(20):
        obs, _ = env.reset(seed=k)
        dist, _ = policy(policy.collate([obs]))
        assert obs.nodes[int(dist.mode[0]), -1] == 1.0, "the greedy action must be an available node"
