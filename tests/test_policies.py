"""Tests for gnnrl_lite.policies: output shapes, initialisation, masks and input checks of the actor-critics."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.spaces import GraphInstance
from torch import nn
from torch.distributions import Categorical

import dgl

from gnnrl_lite.envs import PickMaxNodeEnv
from gnnrl_lite.envs.rooms import RoomsEnv
from gnnrl_lite.graphs import with_mask_column
from gnnrl_lite.policies import GraphActorCritic, MLPActorCritic, NeighbourActorCritic, NodeScoreActorCritic, layer_init


@pytest.mark.parametrize("gain, bias", [(np.sqrt(2), 0.0), (0.01, 0.5)])
def test_layer_init_orthogonal_weights_constant_bias(gain, bias):
    """layer_init makes every Linear weight orthogonal with the given gain (W W^T = gain^2 I) and bias constant."""
    mod = layer_init(nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 3)), gain=gain, bias=bias)
    for lin in (mod[0], mod[2]):
        w = lin.weight.detach()
        torch.testing.assert_close(w @ w.T, gain**2 * torch.eye(w.shape[0]), atol=1e-5, rtol=1e-5, msg="weights must be orthogonal times gain")
        assert bool((lin.bias == bias).all()), "biases must equal the given constant"


@pytest.mark.parametrize("batch", [1, 5])
def test_mlp_actor_critic_discrete_shapes(batch):
    """Discrete MLPActorCritic gives a Categorical over n actions, (B,) samples/log-probs/entropies and (B,) values."""
    pi = MLPActorCritic(4, spaces.Discrete(3), hidden=(8, 8))
    dist, value = pi(torch.randn(batch, 4))
    assert isinstance(dist, Categorical) and dist.logits.shape == (batch, 3), "discrete policy must be a (B, n) Categorical"
    a = dist.sample()
    assert a.shape == (batch,) and dist.log_prob(a).shape == (batch,) and dist.entropy().shape == (batch,), "per-row (B,) outputs"
    assert value.shape == (batch,), "value must have shape (B,)"
    assert not pi.continuous and not hasattr(pi, "log_std"), "discrete policy must have no log_std"
    torch.testing.assert_close(dist.probs, torch.full((batch, 3), 1 / 3), atol=0.05, rtol=0, msg="gain-0.01 actor head must start near uniform")


@pytest.mark.parametrize("batch", [1, 5])
def test_mlp_actor_critic_continuous_shapes_and_log_std_init(batch):
    """Box MLPActorCritic gives (B, A) actions, (B,) log-probs/values, and log_std starts at 0 (sigma = 1)."""
    pi = MLPActorCritic(3, spaces.Box(-1.0, 1.0, shape=(2,)), hidden=(8,))
    assert pi.continuous and isinstance(pi.log_std, nn.Parameter), "Box policy must have a learned log_std parameter"
    assert torch.equal(pi.log_std.detach(), torch.zeros(2)), "log_std must start at 0"
    dist, value = pi(torch.randn(batch, 3))
    a = dist.sample()
    assert a.shape == (batch, 2), "continuous actions must have shape (B, A)"
    assert dist.log_prob(a).shape == (batch,) and dist.entropy().shape == (batch,) and value.shape == (batch,), "per-row (B,) outputs"
    torch.testing.assert_close(dist.base_dist.scale, torch.ones(batch, 2), msg="initial standard deviation must be 1")
    assert dist.mode.shape == (batch, 2), "mode must have shape (B, A)"


def test_mlp_actor_critic_rejects_unsupported_action_space():
    """MLPActorCritic raises TypeError for action spaces other than Discrete or a 1-D Box."""
    with pytest.raises(TypeError, match="action_space must be Discrete or a 1-D Box"):
        MLPActorCritic(3, spaces.Box(-1, 1, shape=(2, 2)))


def test_mlp_actor_critic_rejects_a_space_or_a_bad_size_as_obs_dim():
    """obs_dim is the flat observation's size: a space, a float or 0 raise a clear error."""
    with pytest.raises(TypeError, match="not a space; for Box.* pass 18"):
        MLPActorCritic(spaces.Box(-1, 1, shape=(18,)), spaces.Discrete(2))
    with pytest.raises(TypeError, match="obs_dim must be a positive integer"):
        MLPActorCritic(4.0, spaces.Discrete(2))
    with pytest.raises(ValueError, match="obs_dim must be a positive integer"):
        MLPActorCritic(0, spaces.Discrete(2))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_mlp_actor_critic_rejects_non_finite_observations(bad):
    """MLPActorCritic.forward raises ValueError naming 'observation' and the index of a NaN/inf entry."""
    obs = torch.zeros(2, 4)
    obs[1, 3] = bad
    with pytest.raises(ValueError, match=r"observation contains NaN or infinite values \(first at index \(1, 3\)"):
        MLPActorCritic(4, spaces.Discrete(2))(obs)


def test_mlp_actor_critic_rejects_wrong_observation_shape():
    """MLPActorCritic.forward raises ValueError naming the expected (B, D) shape."""
    with pytest.raises(ValueError, match=r"observation batch must have shape \(B, 4\); got \(4,\)"):
        MLPActorCritic(4, spaces.Discrete(2))(torch.zeros(4))


def _env_batch(n_graphs=6, seed=0):
    env = PickMaxNodeEnv(min_nodes=2, max_nodes=7, p_masked=0.5)
    return [env.reset(seed=seed + k)[0] for k in range(n_graphs)]


def test_node_score_actor_critic_puts_no_probability_on_masked_nodes():
    """NodeScoreActorCritic gives zero probability to masked and padding nodes, never samples them, and (B,) values."""
    obs = _env_batch()
    pi = NodeScoreActorCritic(node_dim=1, hidden=8, steps=2)
    g = pi.collate(obs)
    dist, value = pi(g)
    sizes = [o.nodes.shape[0] for o in obs]
    assert value.shape == (len(obs),), "value must have shape (B,)"
    assert dist.probs.shape == (len(obs), max(sizes)), "probs must be (B, N_max)"
    for b, o in enumerate(obs):
        valid = torch.zeros(max(sizes), dtype=torch.bool)
        valid[: sizes[b]] = torch.as_tensor(o.nodes[:, -1] == 1)
        assert bool((dist.probs[b, ~valid] == 0).all()), f"graph {b}: masked/padding nodes must have probability 0"
        torch.testing.assert_close(dist.probs[b].sum(), torch.tensor(1.0), msg="probabilities must sum to 1 per graph")
    rows = torch.arange(len(obs)).repeat(300)
    draws = torch.multinomial(dist.probs[rows], 1).squeeze(1)
    assert bool(dist.mask[rows, draws].all()), "sampled nodes must always be valid"
    a = dist.sample()
    assert dist.log_prob(a).shape == (len(obs),) and bool(torch.isfinite(dist.entropy()).all()), "log_prob/entropy finite, shape (B,)"


def test_node_score_actor_critic_is_permutation_equivariant():
    """Relabelling a graph's nodes permutes NodeScoreActorCritic's node probabilities and keeps its value."""
    obs = _env_batch(1, seed=3)[0]
    n = obs.nodes.shape[0]
    perm = np.random.default_rng(0).permutation(n)
    inv = np.argsort(perm)
    permuted = GraphInstance(obs.nodes[perm], obs.edges, inv[obs.edge_links])
    pi = NodeScoreActorCritic(node_dim=1, hidden=8, steps=2)
    d1, v1 = pi(pi.collate([obs]))
    d2, v2 = pi(pi.collate([permuted]))
    torch.testing.assert_close(d2.probs[0], d1.probs[0, perm], atol=1e-5, rtol=0, msg="node probabilities must permute with the nodes")
    torch.testing.assert_close(v2, v1, atol=1e-5, rtol=0, msg="the value must be permutation-invariant")


def test_node_score_actor_critic_rejects_graph_without_mask_or_non_graph():
    """NodeScoreActorCritic raises ValueError without ndata['mask'] and TypeError for non-graph input."""
    pi = NodeScoreActorCritic(node_dim=1, hidden=4)
    g = dgl.graph(([0], [1]))
    g.ndata["x"] = torch.zeros(2, 1)
    with pytest.raises(ValueError, match=r"graph has no ndata\['mask'\]"):
        pi(g)
    with pytest.raises(TypeError, match="expects a \\(batched\\) DGLGraph; got Tensor"):
        pi(torch.zeros(2, 1))


def test_node_score_actor_critic_rejects_all_masked_graph():
    """A graph observation whose mask column is all zero raises 'no valid action'."""
    inst = GraphInstance(with_mask_column(np.ones((3, 1)), np.zeros(3, bool)), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    pi = NodeScoreActorCritic(node_dim=1, hidden=4)
    with pytest.raises(ValueError, match="no valid action"):
        pi(pi.collate([inst]))


# ---- NeighbourActorCritic (neighbours as actions) ----


def _rooms_obs(seeds):
    env = RoomsEnv(min_rooms=6, max_rooms=20)
    return [env.reset(seed=s)[0] for s in seeds]


def test_neighbour_policy_puts_probability_only_on_neighbours():
    """pi(u) > 0 exactly for the agent's neighbours, in every graph of a batch of different sizes."""
    obs = _rooms_obs(range(6))
    pol = NeighbourActorCritic(node_dim=2, hidden=16, steps=3)
    dist, value = pol(pol.collate(obs))
    assert value.shape == (6,), "one value per graph"
    for b, o in enumerate(obs):
        support = (dist.probs[b, : len(o.nodes)] > 0).numpy()
        assert (support == (o.nodes[:, 2] == 1)).all(), "probability must be on the neighbours only"
        assert float(dist.probs[b, len(o.nodes):].sum()) == 0.0, "padding slots get no probability"


def test_neighbour_policy_is_permutation_equivariant():
    """Relabelling the rooms relabels the action probabilities and leaves the value unchanged."""
    (o,) = _rooms_obs([3])
    n = len(o.nodes)
    perm = np.random.default_rng(0).permutation(n)  # room v becomes perm[v]
    nodes = np.empty_like(o.nodes)
    nodes[perm] = o.nodes
    o_perm = GraphInstance(nodes, o.edges.copy(), perm[o.edge_links])
    pol = NeighbourActorCritic(node_dim=2, hidden=16, steps=3)
    with torch.no_grad():
        d0, v0 = pol(pol.collate([o]))
        d1, v1 = pol(pol.collate([o_perm]))
    torch.testing.assert_close(d1.probs[0, torch.as_tensor(perm)], d0.probs[0], msg="probabilities must move with the rooms")
    torch.testing.assert_close(v1, v0, msg="the value must not depend on the room numbering")


def test_neighbour_policy_requires_one_agent_and_goal():
    """A graph without an agent flag, or with the wrong feature width, raises a clear error."""
    (o,) = _rooms_obs([0])
    pol = NeighbourActorCritic(node_dim=2)
    bad = GraphInstance(o.nodes * np.array([0, 1, 1], np.float32), o.edges, o.edge_links)
    with pytest.raises(ValueError, match="exactly one agent"):
        pol(pol.collate([bad]))
    with pytest.raises(ValueError, match="agent_col"):
        NeighbourActorCritic(node_dim=2, agent_col=2)


def test_neighbour_policy_trains_with_ppo():
    """PPO runs with NeighbourActorCritic on RoomsEnv (smoke test) and logs finite losses."""
    from gnnrl_lite.algos.ppo import PPOConfig, train
    from gnnrl_lite.envs import make_vec_env

    envs = make_vec_env(lambda: RoomsEnv(min_rooms=6, max_rooms=8), 2)
    cfg = PPOConfig(total_timesteps=64, num_envs=2, num_steps=16, num_minibatches=2, update_epochs=1)
    result = train(NeighbourActorCritic(node_dim=2, hidden=8, steps=2), envs, cfg, progress=False)
    assert all(np.isfinite(h["losses/policy_loss"]) for h in result.history), "losses must be finite"


# ---- GraphActorCritic (fixed actions from graph observations) ----


def _entity_batch(sizes, rng):
    """Star graphs around an agent node 0 with features [is_agent, x, y]; one graph per size."""
    graphs = []
    for n in sizes:
        src = np.concatenate([np.arange(1, n), np.zeros(n - 1, int)])
        dst = np.concatenate([np.zeros(n - 1, int), np.arange(1, n)])
        g = dgl.graph((torch.as_tensor(src), torch.as_tensor(dst)), num_nodes=n)
        x = torch.as_tensor(rng.normal(size=(n, 3)), dtype=torch.float32)
        x[:, 0] = 0.0
        x[0, 0] = 1.0
        g.ndata["x"] = x
        graphs.append(g)
    return dgl.batch(graphs)


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "agent"])
def test_graph_actor_critic_shapes_and_invariance(kind, rng):
    """Any readout gives (B, A) action probabilities and (B,) values for graphs of different sizes, invariant to relabelling."""
    pol = GraphActorCritic(node_dim=3, num_actions=5, hidden=16, readout=kind)
    g = _entity_batch([3, 6, 11], rng)
    dist, value = pol(g)
    assert dist.probs.shape == (3, 5) and value.shape == (3,), "one distribution and value per graph"
    single = dgl.unbatch(g)[1]
    perm = torch.as_tensor(np.random.default_rng(1).permutation(single.num_nodes()))
    u, v = single.edges()
    relabelled = dgl.graph((perm[u], perm[v]), num_nodes=single.num_nodes())
    x = torch.empty_like(single.ndata["x"])
    x[perm] = single.ndata["x"]
    relabelled.ndata["x"] = x
    with torch.no_grad():
        d0, v0 = pol(single)
        d1, v1 = pol(relabelled)
    torch.testing.assert_close(d1.probs, d0.probs, atol=1e-5, rtol=1e-5, msg="actions must not depend on the node order")
    torch.testing.assert_close(v1, v0, atol=1e-5, rtol=1e-5, msg="the value must not depend on the node order")


def test_graph_actor_critic_rejects_bad_options(rng):
    """Unknown readouts, a bad agent column, and mis-sized features raise clear errors."""
    with pytest.raises(ValueError, match="readout"):
        GraphActorCritic(3, 5, readout="median")
    with pytest.raises(ValueError, match="agent_col"):
        GraphActorCritic(3, 5, readout="agent", agent_col=3)
    with pytest.raises(ValueError, match="3 columns"):
        GraphActorCritic(3, 5)(_bad_graph())


def _bad_graph():
    g = dgl.graph(([0], [1]))
    g.ndata["x"] = torch.zeros(2, 4)
    return g


def test_random_policy_is_uniform_over_fixed_or_masked_actions():
    """Fixed actions: uniform over num_actions; node actions: uniform over the masked-in nodes; values are 0."""
    from gnnrl_lite.envs import RoomsEnv
    from gnnrl_lite.policies import RandomPolicy

    dist, value = RandomPolicy(4)(torch.zeros(3, 7))
    torch.testing.assert_close(dist.probs, torch.full((3, 4), 0.25))
    assert value.tolist() == [0.0, 0.0, 0.0]
    pol = RandomPolicy()
    obs = [RoomsEnv(6, 9).reset(seed=s)[0] for s in range(3)]
    dist, value = pol(pol.collate(obs))
    for b, o in enumerate(obs):
        nbrs = o.nodes[:, 2] > 0.5
        p = dist.probs[b, :len(o.nodes)].numpy()
        np.testing.assert_allclose(p[nbrs], 1.0 / nbrs.sum(), rtol=1e-6)
        assert (p[~nbrs] == 0).all()
    with pytest.raises(ValueError, match="num_actions"):
        RandomPolicy(0)
    with pytest.raises(ValueError, match="mask"):
        RandomPolicy()(torch.zeros(2, 3))


def test_random_policy_over_edges_is_uniform_over_the_valid_edges():
    from gnnrl_lite.envs import SpanningTreeEnv
    from gnnrl_lite.policies import RandomPolicy

    pol = RandomPolicy(over="edges")
    obs = [SpanningTreeEnv(5, 9).reset(seed=s)[0] for s in range(3)]
    dist, _ = pol(pol.collate(obs))
    for b, o in enumerate(obs):
        valid = o.edges[:, -1] > 0.5
        p = dist.probs[b, :len(o.edges)].numpy()
        np.testing.assert_allclose(p[valid], 1.0 / valid.sum(), rtol=1e-6)
        assert (p[~valid] == 0).all()
    with pytest.raises(ValueError, match="over"):
        RandomPolicy(over="faces")
    with pytest.raises(ValueError, match="edges mask"):
        pol(torch.zeros(2, 3))


def test_random_policy_over_a_box_is_uniform_within_its_bounds():
    from gymnasium import spaces

    from gnnrl_lite.policies import RandomPolicy

    box = spaces.Box(np.array([-1.0, 0.0, 2.0], np.float32), np.array([1.0, 0.5, 3.0], np.float32))
    dist, value = RandomPolicy(box)(torch.zeros(5, 7))
    a = dist.sample((400,))  # (400, 5, 3)
    assert a.shape == (400, 5, 3) and value.tolist() == [0.0] * 5
    assert (a >= torch.as_tensor(box.low, dtype=torch.float32)).all() and (a <= torch.as_tensor(box.high, dtype=torch.float32)).all()
    np.testing.assert_allclose(a.mean((0, 1)).numpy(), (box.low + box.high) / 2, atol=0.05)
    torch.testing.assert_close(dist.log_prob(a[0]), torch.full((5,), -float(np.log((box.high - box.low).prod()))))
    with pytest.raises(ValueError, match="bounded"):
        RandomPolicy(spaces.Box(-np.inf, np.inf, (2,)))


@pytest.mark.parametrize("aggregation", ["sum", "mean", "max"])
def test_graph_policies_take_an_aggregation(aggregation, rng):
    """GraphActorCritic and NeighbourActorCritic pass the aggregation to their encoders; unknown ones raise."""
    pol = GraphActorCritic(3, 5, hidden=8, readout="agent", aggregation=aggregation)
    dist, _ = pol(_entity_batch([3, 5], rng))
    assert dist.probs.shape == (2, 5)
    assert NeighbourActorCritic(2, hidden=8, steps=2, aggregation=aggregation).encoder.aggregation == aggregation
    with pytest.raises(ValueError, match="aggregation"):
        GraphActorCritic(3, 5, aggregation="median")
    with pytest.raises(ValueError, match="aggregation"):
        NeighbourActorCritic(2, aggregation="median")


# ---------------------------------------------------------------- MLPActorCritic(normalize_obs=True)


def test_mlp_actor_critic_normalize_obs_default_off_leaves_outputs_unchanged():
    """normalize_obs defaults to False: no normaliser buffers, observe is a no-op, and the parameters drawn under a seed are the same with it on."""
    box = spaces.Box(-1.0, 1.0, shape=(2,))
    torch.manual_seed(3)
    plain = MLPActorCritic(5, box, hidden=(8,))
    torch.manual_seed(3)
    normed = MLPActorCritic(5, box, hidden=(8,), normalize_obs=True)
    assert not plain.normalize_obs and not hasattr(plain, "obs_norm"), "default must have no normaliser"
    assert set(normed.state_dict()) - set(plain.state_dict()) == {"obs_norm.count", "obs_norm.mean", "obs_norm.var"}, "only buffers are added"
    for name, p in plain.named_parameters():
        assert torch.equal(p, dict(normed.named_parameters())[name]), f"{name}: the normaliser must not change the initial draws"
    obs = torch.randn(4, 5)
    plain.observe(obs * 100)
    (d0, v0), (d1, v1) = plain(obs), normed(obs)  # normed has no statistics yet: clip(x) = x for |x| < 5
    torch.testing.assert_close(d0.mean, d1.mean, msg="before any observe the normalised policy must equal the plain one")
    torch.testing.assert_close(v0, v1, msg="values must agree before any observe")


def test_mlp_actor_critic_normalize_obs_feeds_normalised_input_to_both_networks(rng):
    """After observe, actor and critic read clip((s - mean) / sqrt(max(var, 1e-2) + 1e-6), -5, 5) with numpy's mean and var."""
    pi = MLPActorCritic(3, spaces.Discrete(2), hidden=(8,), normalize_obs=True)
    seen = [rng.normal([0.0, 10.0, -3.0], [1.0, 5.0, 0.01], size=(6, 3)).astype(np.float32) for _ in range(3)]  # var 1e-4: floored
    for x in seen:
        pi.observe(torch.as_tensor(x))
    rows = np.concatenate(seen).astype(np.float64)
    obs = torch.as_tensor(rng.normal(size=(4, 3)).astype(np.float32))
    s_hat = ((obs.double() - rows.mean(0)) / np.sqrt(np.maximum(rows.var(0), 1e-2) + 1e-6)).clamp(-5, 5).float()  # NerveNet's floor
    dist, value = pi(obs)
    torch.testing.assert_close(dist.logits, torch.log_softmax(pi.actor(s_hat), -1), msg="the actor must read the normalised observation")
    torch.testing.assert_close(value, pi.critic(s_hat).squeeze(-1), msg="the critic must read the normalised observation")
    with pytest.raises(ValueError, match=r"observation batch must have shape \(B, 3\)"):
        pi.observe(torch.zeros(2, 4))
