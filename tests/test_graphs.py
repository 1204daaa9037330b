"""Tests for gnnrl_lite.graphs: GraphInstance <-> DGLGraph conversion, batching, padding and masks."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

import dgl

from gnnrl_lite.graphs import (
    batch_graphs,
    collate_obs,
    from_dgl,
    graph_space,
    neighbour_mask,
    pad_by_graph,
    to_dgl,
    with_mask_column,
)

KINDS = ("path", "cycle", "star", "complete", "random", "no_edges")
SIZES = (1, 4, 7)


def _instance(n_nodes, links, node_dim=2):
    links = np.asarray(links, np.int64).reshape(-1, 2)
    return GraphInstance(np.ones((n_nodes, node_dim), np.float32), np.zeros(len(links), np.int64), links)


# ---------------------------------------------------------------- graph_space


@pytest.mark.parametrize("node_dim, edge_dim", [(1, 0), (3, 0), (2, 4)])
def test_graph_space_shapes(node_dim, edge_dim):
    """graph_space has a (node_dim,) Box node space and a Discrete(1) (edge_dim=0) or (edge_dim,) Box edge space."""
    space = graph_space(node_dim, edge_dim)
    assert space.node_space.shape == (node_dim,), "node space must have shape (node_dim,)"
    if edge_dim == 0:
        assert isinstance(space.edge_space, spaces.Discrete) and space.edge_space.n == 1, "edge_dim=0 must give a Discrete(1) placeholder"
    else:
        assert space.edge_space.shape == (edge_dim,), "edge space must have shape (edge_dim,)"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("edge_dim", [0, 2])
def test_graph_space_contains_instances(make_instance, kind, n, edge_dim):
    """Instances built by the module's conventions (and their from_dgl(to_dgl(.)) round trip) lie in graph_space."""
    space = graph_space(3, edge_dim)
    inst = make_instance(kind, n, node_dim=3, edge_dim=edge_dim)
    assert space.contains(inst), "a conforming GraphInstance must be in graph_space"
    assert space.contains(from_dgl(to_dgl(inst))), "from_dgl output must be in graph_space"


def test_graph_space_samples_convert_to_dgl():
    """Samples of graph_space convert with to_dgl to graphs of the same size (seeded space)."""
    space = graph_space(3, 2, low=-1.0, high=1.0)
    space.seed(0)
    for _ in range(5):
        inst = space.sample(num_nodes=4, num_edges=5)
        g = to_dgl(inst)
        assert (g.num_nodes(), g.num_edges()) == (4, 5), "to_dgl must keep the sampled graph's size"
        assert tuple(g.edata["e"].shape) == (5, 2), "to_dgl must keep the sampled edge features"


@pytest.mark.parametrize("node_dim, edge_dim, match", [(0, 0, "node_dim must be at least 1"), (2, -1, "edge_dim must be non-negative")])
def test_graph_space_rejects_bad_dims(node_dim, edge_dim, match):
    """graph_space raises ValueError naming node_dim / edge_dim when they are out of range."""
    with pytest.raises(ValueError, match=match):
        graph_space(node_dim, edge_dim)


# ---------------------------------------------------------------- to_dgl / from_dgl


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("edge_dim", [0, 2])
def test_to_dgl_from_dgl_round_trip(make_instance, kind, n, edge_dim):
    """from_dgl(to_dgl(inst)) reproduces nodes, edges and edge links exactly; to_dgl keeps sizes and features."""
    inst = make_instance(kind, n, node_dim=3, edge_dim=edge_dim)
    g = to_dgl(inst)
    assert g.num_nodes() == n and g.num_edges() == len(inst.edge_links), "to_dgl must keep N and E"
    np.testing.assert_array_equal(g.ndata["x"].numpy(), inst.nodes, err_msg="ndata['x'] must equal the node features")
    u, v = g.edges()
    np.testing.assert_array_equal(np.stack([u.numpy(), v.numpy()], 1).reshape(-1, 2), inst.edge_links.reshape(-1, 2),
                                  err_msg="edges must be (sender, receiver) in the given order")
    assert ("e" in g.edata) == bool(edge_dim), "edata['e'] must exist exactly when the instance has edge features"
    back = from_dgl(g)
    np.testing.assert_array_equal(back.nodes, inst.nodes, err_msg="round trip must preserve node features")
    np.testing.assert_array_equal(back.edges, inst.edges, err_msg="round trip must preserve edge features")
    np.testing.assert_array_equal(back.edge_links.reshape(-1, 2), inst.edge_links.reshape(-1, 2), err_msg="round trip must preserve edge links")


@pytest.mark.parametrize("n", SIZES)
def test_to_dgl_from_dgl_round_trip_with_masks(make_instance, n, rng):
    """With node_mask/edge_mask the last columns become bool masks, and from_dgl appends them back."""
    inst = make_instance("cycle", n, node_dim=2, edge_dim=3)
    node_m = rng.integers(0, 2, n).astype(bool)
    edge_m = rng.integers(0, 2, len(inst.edge_links)).astype(bool)
    inst = GraphInstance(with_mask_column(inst.nodes, node_m), with_mask_column(inst.edges, edge_m), inst.edge_links)
    g = to_dgl(inst, node_mask=True, edge_mask=True)
    assert g.ndata["mask"].dtype == torch.bool and g.ndata["mask"].tolist() == node_m.tolist(), "ndata['mask'] must be the last node column"
    assert g.edata["mask"].tolist() == edge_m.tolist(), "edata['mask'] must be the last edge column"
    assert g.ndata["x"].shape == (n, 2) and g.edata["e"].shape == (len(edge_m), 3), "mask columns must be removed from the features"
    back = from_dgl(g)
    np.testing.assert_array_equal(back.nodes, inst.nodes, err_msg="round trip must restore the node mask column")
    np.testing.assert_array_equal(back.edges, inst.edges, err_msg="round trip must restore the edge mask column")


def test_to_dgl_rejects_zero_nodes():
    """to_dgl raises ValueError saying the graph has zero nodes."""
    inst = GraphInstance(np.zeros((0, 2), np.float32), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    with pytest.raises(ValueError, match="graph has zero nodes"):
        to_dgl(inst)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_to_dgl_rejects_non_finite_node_features(bad):
    """to_dgl raises ValueError naming 'node features' and the bad index for NaN/inf node features."""
    inst = _instance(3, [[0, 1]])
    inst.nodes[2, 1] = bad
    with pytest.raises(ValueError, match=r"node features contains NaN or infinite values \(first at index \(2, 1\)"):
        to_dgl(inst)


def test_to_dgl_rejects_non_finite_edge_features():
    """to_dgl raises ValueError naming 'edge features' for NaN edge features."""
    inst = GraphInstance(np.ones((2, 1), np.float32), np.array([[0.0], [np.nan]], np.float32), np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="edge features contains NaN"):
        to_dgl(inst)


def test_to_dgl_rejects_out_of_range_links():
    """to_dgl raises ValueError naming the valid node-id range for edge links outside [0, N)."""
    with pytest.raises(ValueError, match=r"edge_links refer to node ids outside \[0, 3\)"):
        to_dgl(_instance(3, [[0, 3]]))


def test_to_dgl_rejects_bad_link_shape_and_dtype():
    """to_dgl raises for edge_links that are not (E, 2) or not integers, naming edge_links."""
    with pytest.raises(ValueError, match=r"edge_links must have shape \(E, 2\)"):
        to_dgl(GraphInstance(np.ones((3, 1), np.float32), np.zeros(2, np.int64), np.array([[0, 1, 2], [1, 2, 0]])))
    with pytest.raises(TypeError, match="edge_links must be integers"):
        to_dgl(GraphInstance(np.ones((3, 1), np.float32), np.zeros(1, np.int64), np.array([[0.0, 1.0]])))


def test_to_dgl_rejects_edge_feature_count_mismatch():
    """to_dgl raises ValueError when the number of edge feature rows differs from the number of links."""
    inst = GraphInstance(np.ones((3, 1), np.float32), np.ones((1, 2), np.float32), np.array([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="edges has 1 rows but edge_links has 2"):
        to_dgl(inst)


def test_to_dgl_rejects_non_binary_mask_column():
    """to_dgl(node_mask=True) raises when the last node column is not 0/1."""
    inst = GraphInstance(np.array([[0.3, 0.5], [0.1, 1.0]], np.float32), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    with pytest.raises(ValueError, match="last node feature column is used as the action mask"):
        to_dgl(inst, node_mask=True)


def test_to_dgl_edge_mask_needs_edge_features():
    """to_dgl(edge_mask=True) raises for structure-only graphs (no edge feature columns)."""
    with pytest.raises(ValueError, match="edge_mask=True needs edge features"):
        to_dgl(_instance(2, [[0, 1]]), edge_mask=True)


def test_to_dgl_rejects_non_instance():
    """to_dgl raises TypeError for an object that is not a GraphInstance."""
    with pytest.raises(TypeError, match="expected a gymnasium GraphInstance; got tuple"):
        to_dgl((np.ones((2, 1)), None, None))


def test_to_dgl_accepts_one_dimensional_nodes_and_missing_links():
    """to_dgl treats (N,) node features as (N, 1) and edge_links=None as no edges."""
    g = to_dgl(GraphInstance(np.arange(3, dtype=np.float32), None, None))
    assert g.ndata["x"].shape == (3, 1) and g.num_edges() == 0, "(N,) nodes must become (N, 1) with no edges"


def test_from_dgl_rejects_missing_node_key():
    """from_dgl raises KeyError naming the missing node data key."""
    g = dgl.graph(([0], [1]))
    with pytest.raises(KeyError, match="graph has no node data 'x'"):
        from_dgl(g)


# ---------------------------------------------------------------- batch_graphs / collate_obs


@pytest.mark.parametrize("sizes", [(1,), (3, 1, 5), (4, 4)])
@pytest.mark.parametrize("edge_dim", [0, 2])
def test_batch_graphs_keeps_sizes_and_block_order(make_instance, sizes, edge_dim):
    """batch_graphs keeps each graph's size and stacks node/edge features and offset edges in block order."""
    kinds = ["random", "path", "star", "no_edges"]
    insts = [make_instance(kinds[i % len(kinds)], n, node_dim=3, edge_dim=edge_dim) for i, n in enumerate(sizes)]
    g = batch_graphs(insts)
    assert g.batch_num_nodes().tolist() == list(sizes), "batch_num_nodes must list the graph sizes in order"
    assert g.batch_num_edges().tolist() == [len(i.edge_links) for i in insts], "batch_num_edges must list the edge counts in order"
    np.testing.assert_array_equal(g.ndata["x"].numpy(), np.concatenate([i.nodes for i in insts]), err_msg="node features in block order")
    offsets = np.cumsum([0, *sizes[:-1]])
    links = np.concatenate([i.edge_links.reshape(-1, 2) + o for i, o in zip(insts, offsets)])
    u, v = g.edges()
    np.testing.assert_array_equal(np.stack([u.numpy(), v.numpy()], 1).reshape(-1, 2), links, err_msg="edges offset by earlier graph sizes")
    if edge_dim:
        np.testing.assert_array_equal(g.edata["e"].numpy(), np.concatenate([i.edges for i in insts]), err_msg="edge features in block order")


def test_batch_graphs_rejects_mismatched_node_feature_sizes(make_instance):
    """batch_graphs raises ValueError naming the first graph whose node feature size differs."""
    insts = [make_instance("path", 3, node_dim=2), make_instance("path", 2, node_dim=2), make_instance("path", 4, node_dim=3)]
    with pytest.raises(ValueError, match="node features of graph 2 have size 3, graph 0 has 2"):
        batch_graphs(insts)


def test_batch_graphs_rejects_mismatched_edge_feature_sizes(make_instance):
    """batch_graphs raises ValueError naming the graph whose edge feature size differs."""
    insts = [make_instance("cycle", 3, edge_dim=2), make_instance("cycle", 3, edge_dim=1)]
    with pytest.raises(ValueError, match="edge features of graph 1 have size 1, graph 0 has 2"):
        batch_graphs(insts)


def test_batch_graphs_rejects_mismatched_edge_sizes_after_edgeless_first_graph():
    """batch_graphs raises ValueError naming the graph whose D_e differs even when graph 0 has no edges."""
    edgeless = GraphInstance(np.ones((1, 1), np.float32), None, None)
    a = GraphInstance(np.ones((2, 1), np.float32), np.ones((1, 2), np.float32), np.array([[0, 1]]))
    b = GraphInstance(np.ones((2, 1), np.float32), np.ones((1, 3), np.float32), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="edge features of graph 2 have size 3"):
        batch_graphs([edgeless, a, b])


def test_batch_graphs_rejects_empty_list():
    """batch_graphs raises ValueError for an empty list."""
    with pytest.raises(ValueError, match="cannot batch an empty list"):
        batch_graphs([])


def test_collate_obs_arrays_give_float32_batch():
    """collate_obs turns an array batch or a list of arrays into a float32 (B, *obs_shape) tensor."""
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    for items in (arr, list(arr)):
        out = collate_obs(items)
        assert out.dtype == torch.float32 and tuple(out.shape) == (3, 4), "collate_obs must give float32 (B, D)"
        assert torch.equal(out, torch.as_tensor(arr, dtype=torch.float32)), "collate_obs must keep the values"


def test_collate_obs_graphs_give_batched_graph(make_instance):
    """collate_obs batches GraphInstances (moving the mask column with node_mask=True)."""
    insts = [GraphInstance(with_mask_column(np.ones((n, 1)), np.arange(n) % 2 == 0), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
             for n in (2, 3)]
    g = collate_obs(tuple(insts), node_mask=True)
    assert g.batch_num_nodes().tolist() == [2, 3], "collate_obs must batch graphs in order"
    assert g.ndata["mask"].tolist() == [True, False, True, False, True], "collate_obs(node_mask=True) must fill ndata['mask']"


@pytest.mark.parametrize("as_list", [False, True])
def test_collate_obs_rejects_non_finite_observations(as_list):
    """collate_obs raises ValueError naming 'observation' for NaN/inf array observations."""
    arr = np.zeros((2, 3), np.float32)
    arr[1, 0] = np.inf
    with pytest.raises(ValueError, match=r"observation contains NaN or infinite values \(first at index \(1, 0\)"):
        collate_obs(list(arr) if as_list else arr)


def test_collate_obs_rejects_non_finite_graph_observations():
    """collate_obs raises ValueError naming 'node features' for NaN in a graph observation."""
    inst = _instance(2, [[0, 1]])
    inst.nodes[0, 0] = np.nan
    with pytest.raises(ValueError, match="node features contains NaN"):
        collate_obs([inst])


def test_collate_obs_rejects_empty_list():
    """collate_obs raises ValueError for an empty list of observations."""
    with pytest.raises(ValueError, match="cannot collate an empty list"):
        collate_obs([])


# ---------------------------------------------------------------- pad_by_graph


@pytest.mark.parametrize("sizes", [(1,), (2, 3), (5, 1, 3), (4, 4, 4)])
@pytest.mark.parametrize("trailing", [(), (2,)])
def test_pad_by_graph_is_inverse_of_flattening(sizes, trailing):
    """padded[valid] recovers the flat values; rows hold each graph's values then `fill` padding."""
    values = torch.randn(sum(sizes), *trailing)
    padded, valid = pad_by_graph(values, torch.tensor(sizes), fill=-7.0)
    assert tuple(padded.shape) == (len(sizes), max(sizes), *trailing), "padded must be (B, N_max, ...)"
    assert valid.sum(1).tolist() == list(sizes), "valid must count each graph's nodes"
    assert torch.equal(padded[valid], values), "padded[valid] must equal the flat values in order"
    assert bool((padded[~valid] == -7.0).all()), "padding slots must hold the fill value"
    start = 0
    for b, n in enumerate(sizes):
        assert torch.equal(padded[b, :n], values[start:start + n]), "row b must hold graph b's values first"
        start += n


def test_pad_by_graph_docstring_example():
    """pad_by_graph(arange(5), [2, 3]) gives [[0, 1, 0], [2, 3, 4]] with the matching valid mask."""
    p, m = pad_by_graph(torch.arange(5.0), torch.tensor([2, 3]))
    assert torch.equal(p, torch.tensor([[0.0, 1.0, 0.0], [2.0, 3.0, 4.0]])), "padded table of the docstring example"
    assert m.tolist() == [[True, True, False], [True, True, True]], "valid mask of the docstring example"


def test_pad_by_graph_rejects_size_mismatch():
    """pad_by_graph raises ValueError when sizes do not sum to the number of rows, or are not 1-D."""
    with pytest.raises(ValueError, match="values has 5 rows but sizes sum to 4"):
        pad_by_graph(torch.zeros(5), torch.tensor([2, 2]))
    with pytest.raises(ValueError, match=r"sizes must have shape \(B,\)"):
        pad_by_graph(torch.zeros(4), torch.tensor([[2, 2]]))


# ---------------------------------------------------------------- neighbour_mask / with_mask_column


@pytest.mark.parametrize("kind", ["path", "cycle", "star", "complete", "random"])
@pytest.mark.parametrize("n", [4, 7])
def test_neighbour_mask_equals_successors(make_graph, kind, n):
    """neighbour_mask(g, v) is True exactly at g.successors(v) (or raises when v has none)."""
    g = make_graph(kind, n)
    for v in range(n):
        succ = set(g.successors(v).tolist())
        if not succ:
            with pytest.raises(ValueError, match=f"node {v} has no neighbours"):
                neighbour_mask(g, v)
            continue
        mask = neighbour_mask(g, v)
        assert mask.dtype == torch.bool and mask.shape == (n,), "neighbour_mask must be bool of shape (N,)"
        assert set(mask.nonzero().flatten().tolist()) == succ, "neighbour_mask must equal the successors of the node"


def test_neighbour_mask_rejects_node_without_neighbours():
    """neighbour_mask raises ValueError ('no valid action') for a node with no successors."""
    g = dgl.graph(([0, 1], [1, 0]), num_nodes=3)
    with pytest.raises(ValueError, match="node 2 has no neighbours: the action mask would have no valid action"):
        neighbour_mask(g, 2)


@pytest.mark.parametrize("node", [-1, 3])
def test_neighbour_mask_rejects_out_of_range_node(node):
    """neighbour_mask raises ValueError naming the node and graph size for an out-of-range node."""
    g = dgl.graph(([0, 1], [1, 2]))
    with pytest.raises(ValueError, match=f"node {node} is out of range for a graph with 3 nodes"):
        neighbour_mask(g, node)


def test_with_mask_column_appends_mask_last():
    """with_mask_column returns float32 (N, D+1) with the features first and the 0/1 mask last."""
    feats = np.arange(6).reshape(3, 2)
    out = with_mask_column(feats, np.array([True, False, True]))
    assert out.dtype == np.float32 and out.shape == (3, 3), "with_mask_column must return float32 (N, D+1)"
    np.testing.assert_array_equal(out[:, :2], feats, err_msg="features must come first")
    np.testing.assert_array_equal(out[:, 2], [1.0, 0.0, 1.0], err_msg="the mask must be the last column")


def test_with_mask_column_rejects_bad_shapes():
    """with_mask_column raises ValueError naming both shapes when the mask is not (N,)."""
    with pytest.raises(ValueError, match=r"features must be \(N, D\) and mask \(N,\); got \(3, 2\) and \(2,\)"):
        with_mask_column(np.zeros((3, 2)), np.zeros(2))


def test_to_dgl_rejects_placeholder_edges_of_wrong_length():
    """Structure-only edges (1-D) must have one entry per edge link."""
    inst = GraphInstance(np.ones((3, 1), np.float32), np.zeros(5, np.int64), np.array([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="edges has 5 entries but edge_links has 2"):
        to_dgl(inst)


@pytest.mark.parametrize("seed", range(5))
def test_batch_graphs_equals_dgl_batch_of_single_graphs(seed):
    """The one-call batch has the same nodes, edges (in order), features, masks and sizes as dgl.batch of to_dgl graphs."""
    from gnnrl_lite.envs import RoomsEnv, SpanningTreeEnv
    rng = np.random.default_rng(seed)
    for env, kw in ((RoomsEnv(2, 12), {"node_mask": True}), (SpanningTreeEnv(2, 9), {"edge_mask": True})):
        obs = [env.reset(seed=int(s))[0] for s in rng.integers(0, 1000, 5)]
        fast, ref = batch_graphs(obs, **kw), dgl.batch([to_dgl(o, **kw) for o in obs])
        for a, b in zip(fast.edges(), ref.edges()):
            assert torch.equal(a, b)
        assert torch.equal(fast.batch_num_nodes(), ref.batch_num_nodes()) and torch.equal(fast.batch_num_edges(), ref.batch_num_edges())
        for key in ref.ndata:
            assert torch.equal(fast.ndata[key], ref.ndata[key])
        for key in ref.edata:
            assert torch.equal(fast.edata[key], ref.edata[key])
        assert set(fast.ndata) == set(ref.ndata) and set(fast.edata) == set(ref.edata)


def test_graph_ids_labels_rows_by_graph_and_rejects_bad_sizes():
    from gnnrl_lite.graphs import graph_ids
    assert graph_ids(torch.tensor([2, 0, 3])).tolist() == [0, 0, 2, 2, 2]
    with pytest.raises(ValueError, match="non-negative"):
        graph_ids(torch.tensor([1, -1]))
