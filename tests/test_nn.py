"""Tests for gnnrl_lite.nn: MLP, RunningNorm against numpy, MPNNLayer against a dense reference, equivariance, and readouts."""

import numpy as np
import pytest
import torch
from torch import nn

import dgl

from gnnrl_lite.nn import (ACTIVATIONS, AGGREGATIONS, MLP, GatedMPNN, GraphPredictor, MPNNEncoder, MPNNLayer, Readout, RunningNorm,
                           get_activation, readout)

KINDS = ("path", "cycle", "star", "complete", "random", "no_edges")
SIZES = (1, 4, 7)


def _permute(g: dgl.DGLGraph, perm: torch.Tensor) -> dgl.DGLGraph:
    """Relabel nodes so that new node i is old node perm[i]; node and edge data follow (dgl.reorder_graph)."""
    return dgl.reorder_graph(g, node_permute_algo="custom", edge_permute_algo="src", permute_config={"nodes_perm": perm}, store_ids=True)


def _relabel(g: dgl.DGLGraph, perm: torch.Tensor, edge_perm: torch.Tensor) -> dgl.DGLGraph:
    """Relabel nodes by hand (new node i = old node perm[i]) and shuffle the edge order with edge_perm."""
    inv = torch.argsort(perm)
    u, v = g.edges()
    return dgl.graph((inv[u[edge_perm]], inv[v[edge_perm]]), num_nodes=g.num_nodes())


def _snapshot(g: dgl.DGLGraph) -> tuple[dict, dict]:
    return {k: v.clone() for k, v in g.ndata.items()}, {k: v.clone() for k, v in g.edata.items()}


def _assert_graph_unchanged(g, before, what):
    nd, ed = before
    assert set(g.ndata.keys()) == set(nd), f"{what} must not add or remove the caller's ndata keys"
    assert set(g.edata.keys()) == set(ed), f"{what} must not add or remove the caller's edata keys"
    for k in nd:
        assert torch.equal(g.ndata[k], nd[k]), f"{what} must leave the caller's ndata[{k!r}] unchanged"
    for k in ed:
        assert torch.equal(g.edata[k], ed[k]), f"{what} must leave the caller's edata[{k!r}] unchanged"


def _dense_mpnn(layer: MPNNLayer, g: dgl.DGLGraph, h: torch.Tensor, e: torch.Tensor | None) -> torch.Tensor:
    """Reference: m_uv = phi_e([h_u||h_v||e_uv]); m_v = agg over in-edges (0 if none); h'_v = phi_h([h_v||m_v])."""
    u, v = g.edges()
    out = []
    for node in range(g.num_nodes()):
        in_edges = (v == node).nonzero().flatten().tolist()
        if in_edges:
            msgs = torch.stack([
                layer.phi_e(torch.cat([h[u[k]], h[node]] + ([e[k]] if e is not None else [])))
                for k in in_edges
            ])
            m_v = {"sum": msgs.sum(0), "mean": msgs.mean(0), "max": msgs.max(0).values}[layer.aggregation]
        else:
            m_v = torch.zeros(layer.hidden)
        out.append(layer.phi_h(torch.cat([h[node], m_v])))
    return torch.stack(out)


# ---------------------------------------------------------------- activations and MLP


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_get_activation_returns_fresh_module_of_named_class(name):
    """get_activation(name) returns a new instance of ACTIVATIONS[name] each call."""
    a, b = get_activation(name), get_activation(name)
    assert isinstance(a, ACTIVATIONS[name]) and a is not b, "get_activation must return a fresh module of the named class"


def test_get_activation_rejects_unknown_name():
    """get_activation raises ValueError naming 'activation' and the allowed names."""
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; expected one of \('relu'"):
        get_activation("swish")


def test_aggregations_and_activations_constants():
    """AGGREGATIONS is (sum, mean, max) and every ACTIVATIONS entry builds an nn.Module."""
    assert AGGREGATIONS == ("sum", "mean", "max"), "AGGREGATIONS must list sum, mean, max"
    assert all(isinstance(cls(), nn.Module) for cls in ACTIVATIONS.values()), "every activation must be an nn.Module class"


@pytest.mark.parametrize("hidden", [(), (8,), (8, 5)])
def test_mlp_shapes_and_layers(hidden):
    """MLP maps (..., D_in) to (..., D_out) with len(hidden)+1 linear layers."""
    mlp = MLP(4, hidden, 3)
    assert mlp(torch.zeros(2, 5, 4)).shape == (2, 5, 3), "MLP must map (..., D_in) to (..., D_out)"
    assert sum(isinstance(m, nn.Linear) for m in mlp) == len(hidden) + 1, "MLP must have len(hidden)+1 linear layers"


def test_mlp_output_activation_applied():
    """MLP(output_activation='sigmoid') outputs lie in (0, 1); a single-layer identity MLP is affine."""
    mlp = MLP(3, (4,), 2, output_activation="sigmoid")
    y = mlp(torch.randn(50, 3) * 10)
    assert bool(((y > 0) & (y < 1)).all()), "sigmoid output activation must squash outputs into (0, 1)"
    lin = MLP(3, (), 2)
    x = torch.randn(4, 3)
    torch.testing.assert_close(lin(x), lin[0](x), msg="MLP with no hidden layers must be a single linear map")


def test_mlp_rejects_wrong_input_width():
    """MLP raises ValueError naming the expected last dimension and the received shape."""
    with pytest.raises(ValueError, match=r"MLP expects inputs with last dimension 4; got shape \(2, 3\)"):
        MLP(4, (8,), 2)(torch.zeros(2, 3))


def test_mlp_rejects_unknown_activation():
    """MLP raises ValueError for an unknown activation name at construction."""
    with pytest.raises(ValueError, match="unknown activation 'foo'"):
        MLP(4, (8,), 2, activation="foo")


# ---------------------------------------------------------------- MPNNLayer


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("edge_dim", [0, 2])
def test_mpnn_layer_equals_dense_reference(make_graph, aggregation, kind, n, edge_dim):
    """MPNNLayer equals phi_h([h_v || agg_u phi_e([h_u || h_v || e_uv])]) computed node by node."""
    g = make_graph(kind, n, node_dim=3, edge_dim=edge_dim)
    layer = MPNNLayer(3, 4, edge_dim=edge_dim, hidden=5, aggregation=aggregation)
    h, e = g.ndata["x"], g.edata.get("e") if edge_dim else None
    out = layer(g, h, e)
    assert out.shape == (n, 4), "MPNNLayer must return (N, D_out)"
    torch.testing.assert_close(out, _dense_mpnn(layer, g, h, e), rtol=1e-5, atol=1e-5,
                               msg=f"MPNNLayer({aggregation}) must equal the dense reference formula")


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_mpnn_layer_node_without_in_edges_gets_zero_message(aggregation):
    """A node with no incoming edges gets m_v = 0, i.e. h'_v = phi_h([h_v || 0])."""
    g = dgl.graph(([0, 0, 1], [1, 2, 2]), num_nodes=4)  # node 0 and node 3 have no in-edges
    layer = MPNNLayer(2, 3, hidden=4, aggregation=aggregation)
    h = torch.randn(4, 2)
    out = layer(g, h)
    for v in (0, 3):
        torch.testing.assert_close(out[v], layer.phi_h(torch.cat([h[v], torch.zeros(4)])),
                                   msg=f"node {v} without in-edges must receive m_v = 0 ({aggregation})")


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("kind", ["path", "star", "random"])
@pytest.mark.parametrize("edge_dim", [0, 2])
def test_mpnn_layer_is_permutation_equivariant(make_graph, aggregation, kind, edge_dim):
    """Relabelling nodes (and shuffling edge order) permutes MPNNLayer's output rows accordingly."""
    n = 6
    g = make_graph(kind, n, node_dim=3, edge_dim=edge_dim)
    layer = MPNNLayer(3, 4, edge_dim=edge_dim, hidden=5, aggregation=aggregation)
    perm, edge_perm = torch.randperm(n), torch.randperm(g.num_edges())
    e = g.edata["e"] if edge_dim else None
    out = layer(g, g.ndata["x"], e)
    out_p = layer(_relabel(g, perm, edge_perm), g.ndata["x"][perm], e[edge_perm] if edge_dim else None)
    torch.testing.assert_close(out_p, out[perm], rtol=0, atol=1e-5, msg="MPNNLayer must be permutation-equivariant")


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_mpnn_layer_equivariant_under_reorder_graph(make_graph, aggregation):
    """dgl.reorder_graph with a custom node permutation permutes MPNNLayer's outputs accordingly."""
    g = make_graph("random", 7, node_dim=3, edge_dim=2)
    layer = MPNNLayer(3, 4, edge_dim=2, hidden=5, aggregation=aggregation)
    perm = torch.randperm(7)
    gp = _permute(g, perm)
    torch.testing.assert_close(layer(gp, gp.ndata["x"], gp.edata["e"]), layer(g, g.ndata["x"], g.edata["e"])[perm],
                               rtol=0, atol=1e-5, msg="MPNNLayer must be equivariant under dgl.reorder_graph")


@pytest.mark.parametrize("edge_dim", [0, 2])
def test_mpnn_layer_leaves_caller_graph_unchanged(make_graph, edge_dim):
    """MPNNLayer.forward leaves the caller's ndata/edata keys and values unchanged (even a key named 'h')."""
    g = make_graph("random", 5, node_dim=3, edge_dim=edge_dim)
    g.ndata["h"] = torch.full((5, 1), 9.0)
    before = _snapshot(g)
    MPNNLayer(3, 4, edge_dim=edge_dim, hidden=5)(g, g.ndata["x"], g.edata.get("e") if edge_dim else None)
    _assert_graph_unchanged(g, before, "MPNNLayer")


def test_mpnn_layer_rejects_wrong_feature_width():
    """MPNNLayer raises ValueError naming the expected (N, D_in) shape and the received one."""
    g = dgl.graph(([0, 1], [1, 2]))
    with pytest.raises(ValueError, match=r"MPNNLayer: node features must have shape \(3, 4\); got \(3, 5\)"):
        MPNNLayer(4, 2)(g, torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"MPNNLayer: node features must have shape \(3, 4\); got \(2, 4\)"):
        MPNNLayer(4, 2)(g, torch.zeros(2, 4))


def test_mpnn_layer_rejects_wrong_edge_features():
    """MPNNLayer(edge_dim>0) raises ValueError naming the expected (E, D_e) shape for missing/wrong edge features."""
    g = dgl.graph(([0, 1], [1, 2]))
    layer = MPNNLayer(2, 2, edge_dim=3)
    with pytest.raises(ValueError, match=r"edge features must have shape \(2, 3\); got None"):
        layer(g, torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"edge features must have shape \(2, 3\); got \(2, 1\)"):
        layer(g, torch.zeros(3, 2), torch.zeros(2, 1))


def test_mpnn_layer_rejects_zero_node_graph():
    """MPNNLayer raises ValueError for a graph with zero nodes."""
    with pytest.raises(ValueError, match="MPNNLayer: graph has zero nodes"):
        MPNNLayer(2, 2)(dgl.graph(([], []), num_nodes=0), torch.zeros(0, 2))


@pytest.mark.parametrize("cls", [MPNNLayer, GatedMPNN])
def test_unknown_aggregation_rejected(cls):
    """MPNNLayer and GatedMPNN raise ValueError naming 'aggregation' for an unknown aggregation."""
    with pytest.raises(ValueError, match=r"unknown aggregation 'median'; expected one of \('sum', 'mean', 'max'\)"):
        cls(2, 2, aggregation="median") if cls is MPNNLayer else cls(2, aggregation="median")


def test_mpnn_layer_rejects_unknown_activation():
    """MPNNLayer raises ValueError naming 'activation' for an unknown activation."""
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MPNNLayer(2, 2, activation="swish")


# ---------------------------------------------------------------- GatedMPNN


def test_gated_mpnn_one_step_equals_reference(make_graph):
    """GatedMPNN(steps=1) equals GRU(mean_u phi_m(W x_u), W x_v), with m_v = 0 for nodes without in-edges."""
    g = make_graph("random", 6, node_dim=3)
    net = GatedMPNN(3, hidden=4, steps=1, aggregation="mean")
    x = g.ndata["x"]
    h0 = net.input(x)
    msg = net.phi_m(h0)
    u, v = g.edges()
    m = torch.stack([msg[u[v == k]].mean(0) if bool((v == k).any()) else torch.zeros(4) for k in range(6)])
    torch.testing.assert_close(net(g, x), net.gru(m, h0), rtol=1e-5, atol=1e-5, msg="GatedMPNN one step must equal the GRU reference")


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("kind", ["path", "star", "complete", "random", "no_edges"])
def test_gated_mpnn_is_permutation_equivariant(make_graph, aggregation, kind):
    """Permuting nodes with dgl.reorder_graph permutes GatedMPNN's (N, hidden) output rows accordingly."""
    g = make_graph(kind, 6, node_dim=3)
    net = GatedMPNN(3, hidden=5, steps=3, aggregation=aggregation)
    perm = torch.randperm(6)
    gp = _permute(g, perm)
    out = net(g, g.ndata["x"])
    assert out.shape == (6, 5), "GatedMPNN must return (N, hidden)"
    torch.testing.assert_close(net(gp, gp.ndata["x"]), out[perm], rtol=0, atol=1e-5, msg="GatedMPNN must be permutation-equivariant")


def test_gated_mpnn_leaves_caller_graph_unchanged(make_graph):
    """GatedMPNN.forward leaves the caller's ndata/edata keys and values unchanged."""
    g = make_graph("cycle", 5, node_dim=3, edge_dim=2)
    g.ndata["msg"] = torch.ones(5, 2)
    before = _snapshot(g)
    GatedMPNN(3, hidden=4, steps=2)(g, g.ndata["x"])
    _assert_graph_unchanged(g, before, "GatedMPNN")


def test_gated_mpnn_rejects_bad_steps_and_width():
    """GatedMPNN raises ValueError for steps < 1 and for node features of the wrong width."""
    with pytest.raises(ValueError, match="steps must be at least 1; got 0"):
        GatedMPNN(2, steps=0)
    g = dgl.graph(([0], [1]))
    with pytest.raises(ValueError, match=r"GatedMPNN: node features must have shape \(2, 3\); got \(2, 2\)"):
        GatedMPNN(3, hidden=4)(g, torch.zeros(2, 2))


# ---------------------------------------------------------------- readouts


@pytest.mark.parametrize("kind", AGGREGATIONS)
@pytest.mark.parametrize("sizes", [(1,), (3, 1, 5), (4, 2)])
def test_readout_matches_torch_reductions_per_graph(make_graph, kind, sizes):
    """readout(g, h, kind) on a batch equals torch sum/mean/max over each graph's node rows."""
    g = dgl.batch([make_graph("random", n) for n in sizes])
    h = torch.randn(sum(sizes), 3)
    out = readout(g, h, kind)
    ref = torch.stack([getattr(chunk, kind)(0) if kind != "max" else chunk.max(0).values for chunk in h.split(list(sizes))])
    assert out.shape == (len(sizes), 3), "readout must return (B, D)"
    torch.testing.assert_close(out, ref, msg=f"{kind} readout must equal the per-graph torch reduction")
    torch.testing.assert_close(Readout(kind)(g, h), out, msg="Readout module must equal the functional readout")


@pytest.mark.parametrize("kind", AGGREGATIONS)
@pytest.mark.parametrize("n", SIZES)
def test_readout_is_permutation_invariant(make_graph, kind, n):
    """Permuting the nodes of a graph (dgl.reorder_graph) leaves its sum/mean/max readout unchanged."""
    g = make_graph("random", n)
    perm = torch.randperm(n)
    gp = _permute(g, perm)
    torch.testing.assert_close(readout(gp, gp.ndata["x"], kind), readout(g, g.ndata["x"], kind), rtol=0, atol=1e-5,
                               msg=f"{kind} readout must be permutation-invariant")


def test_readout_rejects_unknown_kind():
    """readout and Readout raise ValueError naming 'readout' for an unknown kind."""
    g = dgl.graph(([0], [1]))
    with pytest.raises(ValueError, match=r"unknown readout 'median'; expected one of \('sum', 'mean', 'max'\)"):
        readout(g, torch.zeros(2, 1), "median")
    with pytest.raises(ValueError, match="unknown readout 'median'"):
        Readout("median")


def test_readout_rejects_zero_node_graph_in_batch():
    """readout raises ValueError when a graph in the batch has zero nodes (its readout is undefined)."""
    g = dgl.batch([dgl.graph(([0], [1])), dgl.graph(([], []), num_nodes=0)])
    with pytest.raises(ValueError, match="readout: a graph in the batch has zero nodes"):
        readout(g, torch.zeros(2, 3), "mean")


def test_readout_rejects_row_mismatch_and_non_finite():
    """readout raises ValueError for node states with the wrong number of rows or NaN entries."""
    g = dgl.graph(([0], [1]))
    with pytest.raises(ValueError, match="readout: node states have 3 rows but the graph has 2 nodes"):
        readout(g, torch.zeros(3, 1))
    with pytest.raises(ValueError, match="node states contains NaN"):
        readout(g, torch.tensor([[0.0], [float("nan")]]))


def test_mpnn_layer_rejects_edge_features_without_edge_dim():
    """Edge features given to a layer built with edge_dim=0 raise instead of being silently ignored."""
    g = dgl.graph(([0, 1], [1, 2]))
    with pytest.raises(ValueError, match="edge_dim=0"):
        MPNNLayer(2, 3)(g, torch.ones(3, 2), torch.ones(2, 1))


def test_mpnn_encoder_stacks_layers_with_activation():
    """MPNNEncoder equals relu(layer_L(... relu(layer_1(g, x)))) with its own layers, and checks its arguments."""
    g = dgl.graph(([0, 1, 2, 3], [1, 2, 3, 0]))
    x, e = torch.randn(4, 3), torch.randn(4, 2)
    enc = MPNNEncoder(3, 8, layers=3, edge_dim=2, aggregation="mean")
    h = x
    for layer in enc.layers:
        h = torch.relu(layer(g, h, e))
    torch.testing.assert_close(enc(g, x, e), h, msg="the encoder must be the stack of its layers")
    assert enc(g, x, e).shape == (4, 8) and len(enc.layers) == 3
    with pytest.raises(ValueError, match="layers"):
        MPNNEncoder(3, 8, layers=0)


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_graph_predictor_is_encoder_readout_head(kind):
    """GraphPredictor(g, x) equals head(readout(encoder(g, x))) for a batch of graphs of different sizes."""
    g = dgl.batch([dgl.graph(([0, 1, 2], [1, 2, 0])), dgl.graph(([0, 1], [1, 0]), num_nodes=4)])
    x = torch.randn(g.num_nodes(), 3)
    model = GraphPredictor(3, 2, hidden=8, readout=kind)
    expected = model.head(readout(g, model.encoder(g, x), kind))
    torch.testing.assert_close(model(g, x), expected, msg="the predictor must compose encoder, readout and head")
    assert model(g, x).shape == (2, 2), "one output row per graph"


def test_graph_predictor_node_readout_uses_the_given_nodes():
    """readout='node' takes the embedding of one given node per graph, and needs those indices."""
    g = dgl.batch([dgl.graph(([0, 1], [1, 2])), dgl.graph(([0], [1]))])
    x = torch.randn(5, 3)
    model = GraphPredictor(3, 1, hidden=8, readout="node")
    nodes = torch.tensor([2, 3])
    torch.testing.assert_close(model.embed(g, x, nodes=nodes), model.encoder(g, x)[nodes], msg="node readout")
    with pytest.raises(ValueError, match="one node index per graph"):
        model(g, x)
    with pytest.raises(ValueError, match="readout"):
        GraphPredictor(3, 1, readout="median")


# ---------------------------------------------------------------- RunningNorm


def test_running_norm_matches_numpy_over_several_batches(rng):
    """After updates with batches of several sizes and shapes, mean and var equal numpy's over all rows (ddof=0)."""
    norm = RunningNorm(3)
    batches = [rng.normal(2.0, 3.0, size=shape) for shape in [(1, 3), (7, 3), (4, 5, 3), (2, 3), (3,)]]
    for x in batches:
        norm.update(torch.as_tensor(x, dtype=torch.float32))
    rows = np.concatenate([np.asarray(x, dtype=np.float32).reshape(-1, 3) for x in batches]).astype(np.float64)
    assert norm.count.item() == len(rows) == 31, "count must be the number of rows, all leading axes pooled"
    np.testing.assert_allclose(norm.mean.numpy(), rows.mean(0), rtol=1e-12, err_msg="running mean must equal numpy's mean")
    np.testing.assert_allclose(norm.var.numpy(), rows.var(0), rtol=1e-10, err_msg="running var must equal numpy's population var")
    x = torch.randn(6, 3)
    expected = ((x.double() - rows.mean(0)) / np.sqrt(rows.var(0) + 1e-6)).clamp(-5, 5).float()
    torch.testing.assert_close(norm(x), expected, msg="forward must be clip((x - mean) / sqrt(var + eps), -5, 5)")


def test_running_norm_clips_and_starts_as_identity_clip():
    """Before any update forward is clip(x, -c, c); afterwards outliers are clipped to +-c; clip=None disables clipping."""
    x = torch.tensor([[-7.0, 0.5], [2.0, 9.0]])
    torch.testing.assert_close(RunningNorm(2)(x), x.clamp(-5, 5), msg="with no statistics forward must be clip(x)")
    norm = RunningNorm(2, clip=1.5)
    norm.update(torch.tensor([[0.0, 0.0], [2.0, 2.0]]))  # mean 1, var 1
    out = norm(torch.tensor([[100.0, -100.0], [1.5, 1.0]]))
    assert out[0].tolist() == [1.5, -1.5], "outliers must be clipped to +-clip"
    assert out[1].tolist() == pytest.approx([0.5, 0.0], abs=1e-6), "values inside the clip must be (x - mean) / std"
    free = RunningNorm(2, clip=None)
    free.load_state_dict(norm.state_dict())
    assert free(torch.tensor([[100.0, 1.0]]))[0, 0].item() == pytest.approx(99.0, rel=1e-5), "clip=None must not clip"


@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)])
def test_running_norm_keeps_shape_and_dtype_and_statistics(shape):
    """forward maps (..., D) to (..., D) in the input's dtype without touching the statistics; they are state_dict buffers."""
    norm = RunningNorm(5)
    norm.update(torch.randn(10, 5))
    before = {k: v.clone() for k, v in norm.state_dict().items()}
    for dtype in (torch.float32, torch.float64):
        out = norm(torch.randn(shape, dtype=dtype))
        assert out.shape == shape and out.dtype == dtype, "forward must keep the input's shape and dtype"
    assert set(before) == {"count", "mean", "var"}, "count, mean and var must be buffers in the state_dict"
    assert all(torch.equal(before[k], v) for k, v in norm.state_dict().items()), "forward must not change the statistics"
    assert list(norm.parameters()) == [], "the statistics must not be trainable parameters"


def test_running_norm_update_ignores_empty_batch_and_gradients():
    """An empty batch changes nothing; update works on inputs that require grad and records no graph."""
    norm = RunningNorm(2)
    norm.update(torch.zeros(0, 2))
    assert norm.count.item() == 0, "an empty batch must not change the count"
    norm.update(torch.ones(3, 2, requires_grad=True))
    assert norm.count.item() == 3 and not norm.mean.requires_grad, "update must detach its input"


def test_running_norm_rejects_bad_shapes_values_and_options():
    """Wrong last dimension, 0-d or non-tensor inputs, non-finite updates and bad options raise clear errors."""
    norm = RunningNorm(3)
    with pytest.raises(ValueError, match=r"RunningNorm.update expects shape \(\.\.\., 3\); got \(4, 2\)"):
        norm.update(torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"RunningNorm.forward expects shape \(\.\.\., 3\); got \(\)"):
        norm(torch.tensor(1.0))
    with pytest.raises(TypeError, match="expects a torch.Tensor"):
        norm([[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="NaN or infinite"):
        norm.update(torch.tensor([[0.0, float("nan"), 0.0]]))
    assert norm.count.item() == 0, "a rejected batch must leave the statistics unchanged"
    for kwargs, match in (({"dim": 0}, "dim must be a positive integer"), ({"dim": 3, "eps": 0.0}, "eps must be positive"),
                          ({"dim": 3, "clip": -1.0}, "clip must be positive or None"), ({"dim": 3, "min_var": -1.0}, "min_var must be")):
        with pytest.raises(ValueError, match=match):
            RunningNorm(**kwargs)


def test_running_norm_min_var_floors_only_the_scale():
    """With min_var, the scale is sqrt(max(var, min_var) + eps) while var stays the data's variance (NerveNet floors at 1e-2)."""
    norm = RunningNorm(2, min_var=1e-2)
    norm.update(torch.tensor([[0.0, 0.0], [0.02, 2.0]]))  # var 1e-4 and 1
    assert norm.var.tolist() == pytest.approx([1e-4, 1.0]), "var must stay the variance of the data"
    torch.testing.assert_close(norm.std, torch.sqrt(torch.tensor([1e-2, 1.0], dtype=torch.float64) + 1e-6), msg="floored scale")
    out = norm(torch.tensor([[0.11, 2.0]]))
    assert out.tolist()[0] == pytest.approx([1.0, 1.0], rel=1e-4), "a nearly constant feature must be divided by sqrt(min_var), not blown up"
    assert "min_var=0.01" in repr(norm), "the floor must show in repr"
