"""NodeQNet and ProtoActionActorCritic: masked outputs, equivariance, training smoke tests, input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnnrl_lite.algos import dqn, ppo
from gnnrl_lite.envs import PublicGoodsEnv, VertexCoverEnv, make_vec_env
from gnnrl_lite.experiments import seed_everything
from gnnrl_lite.heads import NodeQNet, ProtoActionActorCritic


def _obs(env_cls, seeds, **kw):
    return [env_cls(**kw).reset(seed=s)[0] for s in seeds]


def test_node_q_net_pads_to_the_largest_graph_and_masks_padding():
    seed_everything(0)
    net = NodeQNet(2, hidden=8, steps=2)
    obs = _obs(VertexCoverEnv, range(3), min_nodes=5, max_nodes=12)
    q, mask = net(net.collate(obs))
    sizes = [len(o.nodes) for o in obs]
    assert q.shape == mask.shape == (3, max(sizes))
    for b, n in enumerate(sizes):
        assert mask[b, :n].all() and not mask[b, n:].any()


def test_proto_action_puts_probability_only_on_valid_nodes_and_prefers_the_nearest():
    seed_everything(0)
    pol = ProtoActionActorCritic(2, hidden=8, steps=2)
    env = PublicGoodsEnv(8, 8)
    obs, _ = env.reset(seed=1)
    obs, *_ = env.step(int(np.flatnonzero(obs.nodes[:, 2])[0]))
    g = pol.collate([obs])
    dist, value = pol(g)
    valid = obs.nodes[:, 2] > 0.5
    assert value.shape == (1,) and torch.all(dist.probs[0, :8][torch.as_tensor(~valid)] == 0)
    with torch.no_grad():
        z = pol.encoder(g, g.ndata["x"])
        proto = pol.proto(z.sum(0, keepdim=True))
    distance = (proto - z).norm(dim=1).numpy()
    distance[~valid] = np.inf
    assert int(dist.mode[0]) == int(np.argmin(distance)), "the mode is the valid node nearest the proto-action"


@pytest.mark.parametrize("cls", [NodeQNet, ProtoActionActorCritic])
def test_heads_are_permutation_equivariant(cls):
    """Relabelling the nodes permutes the per-node outputs the same way."""
    seed_everything(0)
    net = cls(2, hidden=8, steps=2)
    env = VertexCoverEnv(9, 9)
    obs, _ = env.reset(seed=3)
    perm = np.random.default_rng(0).permutation(9)
    inv = np.argsort(perm)
    moved = type(obs)(nodes=obs.nodes[inv], edges=obs.edges, edge_links=perm[obs.edge_links])
    with torch.no_grad():
        a, b = net(net.collate([obs])), net(net.collate([moved]))
    first = a[0] if cls is NodeQNet else a[0].probs
    second = b[0] if cls is NodeQNet else b[0].probs
    torch.testing.assert_close(second[0, perm], first[0], atol=1e-5, rtol=1e-5)


def test_heads_train_smoke():
    """One short DQN run with NodeQNet and one PPO run with ProtoActionActorCritic."""
    envs = make_vec_env(lambda: VertexCoverEnv(6, 9), 2)
    cfg = dqn.DQNConfig(total_timesteps=80, num_envs=2, learning_starts=20, batch_size=8, log_every=40, buffer_size=100)
    dqn.train(NodeQNet(2, hidden=8, steps=2), envs, cfg, progress=False)
    envs = make_vec_env(lambda: PublicGoodsEnv(6, 9), 2)
    ppo.train(ProtoActionActorCritic(2, hidden=8, steps=2), envs,
              ppo.PPOConfig(total_timesteps=32, num_envs=2, num_steps=16, num_minibatches=2), progress=False)


@pytest.mark.parametrize("cls", [NodeQNet, ProtoActionActorCritic])
def test_heads_reject_bad_input(cls):
    net = cls(2, hidden=8, steps=2)
    with pytest.raises(ValueError, match="mask"):
        net(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="2 columns"):
        net(_wide_graph())


def _wide_graph():
    import dgl
    g = dgl.graph(([0], [1]))
    g.ndata["x"] = torch.zeros(2, 3)
    g.ndata["mask"] = torch.ones(2, dtype=torch.bool)
    return g
