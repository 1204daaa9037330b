"""Tests for gnnrl_lite.egnn: O(D) and permutation equivariance, translations, the bias at initialisation, the GNN baseline.

Equivariance checks run in float64: in float32 the E2GN2 stack's rotation errors reach about
4e-5 (coordinates of scale 3, nine nodes), above the 1e-5 tolerance, while in float64 they are
about 1e-15.
"""

import numpy as np
import pytest
import torch

import dgl

from gnnrl_lite.egnn import (E2GN2Layer, EGNNLayer, EquivariantGraphNetwork, GNNLayer, complete_graph,
                             coordinate_slope)

SIZES = (2, 5, 9)
DIMS = (2, 3)
EQUIVARIANT = ("egnn", "e2gn2")
DRAWS = 10  # random (Q, h, x) draws per network
TOL = 1e-5
IN_DIM = 4


def _orthogonal(d: int, rng: np.random.Generator, reflect: bool) -> torch.Tensor:
    """A Haar-random orthogonal matrix (QR of a Gaussian, signs fixed) with det -1 if ``reflect``, else det +1."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    if (np.linalg.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    return torch.as_tensor(q, dtype=torch.float64)


def _random_graph(n: int, rng: np.random.Generator) -> dgl.DGLGraph:
    """A directed Erdos-Renyi graph (p = 0.5, no self-loops); some nodes may have no in-edges."""
    adj = (rng.random((n, n)) < 0.5) & ~np.eye(n, dtype=bool)
    src, dst = np.nonzero(adj)
    return dgl.graph((torch.as_tensor(src), torch.as_tensor(dst)), num_nodes=n)


def _net(kind: str, d: int, seed: int = 0) -> EquivariantGraphNetwork:
    torch.manual_seed(seed)
    return EquivariantGraphNetwork(IN_DIM, hidden=16, layers=2, kind=kind, coord_dim=d).double()


def _inputs(n: int, d: int, rng: np.random.Generator, scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(rng.standard_normal((n, IN_DIM))), torch.as_tensor(scale * rng.standard_normal((n, d)))


@pytest.mark.parametrize("kind", EQUIVARIANT)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("d", DIMS)
def test_orthogonal_equivariance(kind, n, d, rng):
    """h^L is invariant and x^L equivariant under rotations and reflections: f(h, x Q^T) = (h^L, x^L Q^T)."""
    net, g = _net(kind, d), complete_graph(n)
    for draw in range(DRAWS):
        Q = _orthogonal(d, rng, reflect=bool(draw % 2))
        h, x = _inputs(n, d, rng)
        h_out, x_out = net(g, h, x)
        h_rot, x_rot = net(g, h, x @ Q.T)
        assert (h_rot - h_out).abs().max() < TOL, f"{kind}: h^L must be invariant to an orthogonal map (det {np.linalg.det(Q):+.0f})"
        assert (x_rot - x_out @ Q.T).abs().max() < TOL, f"{kind}: x^L must rotate/reflect with x^0 (det {np.linalg.det(Q):+.0f})"


@pytest.mark.parametrize("layer_cls", (EGNNLayer, E2GN2Layer))
@pytest.mark.parametrize("options", ({"coords_agg": "sum"}, {"normalize": True}, {"tanh": True}, {"edge_dim": 2}, {"out_dim": 5}))
def test_layer_options_keep_equivariance(layer_cls, options, rng):
    """Every layer option (sum aggregation, normalised differences, tanh, edge features, new width) keeps O(3) equivariance."""
    n, d = 6, 3
    torch.manual_seed(0)
    layer = layer_cls(IN_DIM, hidden=8, **options).double()
    g = _random_graph(n, rng)
    e = torch.as_tensor(rng.standard_normal((g.num_edges(), 2))) if options.get("edge_dim") else None
    for draw in range(DRAWS):
        Q = _orthogonal(d, rng, reflect=bool(draw % 2))
        h, x = _inputs(n, d, rng)
        h_out, x_out = layer(g, h, x, e)
        h_rot, x_rot = layer(g, h, x @ Q.T, e)
        assert (h_rot - h_out).abs().max() < TOL, f"{layer_cls.__name__}({options}): h' must be O(3)-invariant"
        assert (x_rot - x_out @ Q.T).abs().max() < TOL, f"{layer_cls.__name__}({options}): x' must be O(3)-equivariant"


@pytest.mark.parametrize("kind", ("egnn", "e2gn2", "gnn"))
@pytest.mark.parametrize("n", SIZES)
def test_permutation_equivariance(kind, n, rng):
    """Relabelling the nodes (and the graph with them) permutes h^L and x^L the same way."""
    net = _net(kind, 2)
    for _ in range(DRAWS):
        g = _random_graph(n, rng)
        h, x = _inputs(n, 2, rng)
        perm = torch.as_tensor(rng.permutation(n))  # new node k is old node perm[k]
        inv = torch.argsort(perm)
        u, v = g.edges()
        shuffle = torch.as_tensor(rng.permutation(g.num_edges()), dtype=torch.long)
        g_perm = dgl.graph((inv[u[shuffle]], inv[v[shuffle]]), num_nodes=n)
        h_out, x_out = net(g, h, x)
        h_perm, x_perm = net(g_perm, h[perm], x[perm])
        assert (h_perm - h_out[perm]).abs().max() < TOL, f"{kind}: h^L must be permuted with the nodes"
        assert (x_perm - x_out[perm]).abs().max() < TOL, f"{kind}: x^L must be permuted with the nodes"


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("d", DIMS)
def test_egnn_translation_equivariant(n, d, rng):
    """EGNN: shifting every x_i by t shifts x^L by t and leaves h^L unchanged."""
    net, g = _net("egnn", d), complete_graph(n)
    for _ in range(DRAWS):
        h, x = _inputs(n, d, rng)
        t = torch.as_tensor(10 * rng.standard_normal(d))
        h_out, x_out = net(g, h, x)
        h_shift, x_shift = net(g, h, x + t)
        assert (h_shift - h_out).abs().max() < TOL, "EGNN: h^L must be translation-invariant"
        assert (x_shift - (x_out + t)).abs().max() < TOL, "EGNN: x^L must be translation-equivariant"


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("d", DIMS)
def test_e2gn2_not_translation_equivariant(n, d, rng):
    """E2GN2: after x -> x + t, x^L is far from x^L + t (the violation is of the order of |t|), by design."""
    net, g = _net("e2gn2", d), complete_graph(n)
    for _ in range(DRAWS):
        h, x = _inputs(n, d, rng)
        t = torch.as_tensor(10 * rng.standard_normal(d))
        _, x_out = net(g, h, x)
        _, x_shift = net(g, h, x + t)
        violation = (x_shift - (x_out + t)).norm(dim=-1).max()
        assert violation > 0.5 * t.norm(), f"E2GN2 must not be translation-equivariant; violation {violation:.3g} vs |t| = {t.norm():.3g}"


def test_e2gn2_single_layer_features_translation_invariant(rng):
    """One E2GN2 layer: h' sees only differences (translation-invariant) while u' is not translation-equivariant."""
    torch.manual_seed(0)
    layer, g = E2GN2Layer(IN_DIM, hidden=8).double(), complete_graph(5)
    h, x = _inputs(5, 2, rng)
    t = torch.tensor([4.0, -7.0], dtype=torch.float64)
    (h_out, u_out), (h_shift, u_shift) = layer(g, h, x), layer(g, h, x + t)
    assert (h_shift - h_out).abs().max() < TOL, "one E2GN2 layer's h' must be translation-invariant"
    assert (u_shift - (u_out + t)).abs().max() > 1.0, "E2GN2's u' must not follow a translation"


@pytest.mark.parametrize("d", DIMS)
def test_bias_at_initialisation(d):
    """Over 50 initialisations, EGNN's x^L regresses on x^0 with slope ~1 (x barely moves); E2GN2's with slope ~0; GNN's exactly 1."""
    slopes = {kind: coordinate_slope(lambda kind=kind: EquivariantGraphNetwork(IN_DIM, hidden=32, kind=kind, coord_dim=d),
                                     IN_DIM, num_nodes=5, coord_dim=d, inits=50)
              for kind in ("egnn", "e2gn2", "gnn")}
    assert slopes["egnn"] > 0.8, f"EGNN should start near the identity on coordinates (Theorem 1); slope {slopes['egnn']:.3f}"
    assert abs(slopes["e2gn2"]) < 0.1, f"E2GN2 should start unbiased, E[u^L] ~ 0 (Theorem 2); slope {slopes['e2gn2']:.3f}"
    assert slopes["gnn"] == pytest.approx(1.0, abs=1e-12), "the GNN baseline returns x unchanged, slope 1"


def test_egnn_coordinates_barely_move_at_init():
    """EGNN at initialisation, 50 seeds: x^L - x^0 has mean ~0 and is tiny relative to x^0 (phi_x has gain 0.001)."""
    g = complete_graph(5)
    moves, sizes = [], []
    for seed in range(50):
        torch.manual_seed(seed)
        net = EquivariantGraphNetwork(IN_DIM, hidden=32, kind="egnn")
        h, x = torch.randn(5, IN_DIM), torch.randn(5, 2)
        with torch.no_grad():
            moves.append(net(g, h, x)[1] - x)
        sizes.append(x.abs().mean())
    moves = torch.stack(moves)
    scale = torch.stack(sizes).mean()
    assert moves.mean().abs() < 1e-3 * scale, f"E[x^L - x^0] must be ~0; got {moves.mean():.2e}"
    assert moves.abs().mean() < 1e-2 * scale, f"|x^L - x^0| must be small relative to |x^0|; got {moves.abs().mean() / scale:.2e}"


def test_init_of_coordinate_mlps():
    """phi_x's last layer has no bias and Xavier-uniform gain-0.001 weights; phi_u2's last bias is zero."""
    layer = E2GN2Layer(3, hidden=16)
    last = layer.phi_x[2]
    assert last.bias is None, "phi_x's last layer must have no bias"
    assert last.weight.abs().max() <= 0.001 * np.sqrt(6 / (16 + 1)), "phi_x's last weights must come from Xavier-uniform, gain 0.001"
    assert torch.count_nonzero(layer.phi_u2[2].bias) == 0, "phi_u2's final bias must be zero so that E[phi_u2] = 0"


def _dense_layer(layer: EGNNLayer, g: dgl.DGLGraph, h, x, e):
    """Reference: a loop over receivers i with the layer's own phi's (mean C; 0 without in-edges)."""
    src, dst = g.edges()
    h_new, x_new = [], []
    for i in range(g.num_nodes()):
        in_edges = (dst == i).nonzero().flatten().tolist()
        m_i, coord = torch.zeros(layer.hidden, dtype=h.dtype), torch.zeros(x.shape[1], dtype=x.dtype)
        for k in in_edges:
            j = src[k]
            diff = x[i] - x[j]
            m_ij = layer.phi_e(torch.cat([h[i], h[j], (diff**2).sum().reshape(1)] + ([e[k]] if e is not None else [])))
            m_i = m_i + m_ij
            coord = coord + diff * layer.phi_x(m_ij) / len(in_edges)
        scale = layer.phi_u2(m_i) if isinstance(layer, E2GN2Layer) else 1.0
        x_new.append(x[i] * scale + coord)
        h_new.append(h[i] + layer.phi_h(torch.cat([h[i], m_i])))
    return torch.stack(h_new), torch.stack(x_new)


@pytest.mark.parametrize("layer_cls", (EGNNLayer, E2GN2Layer))
def test_layer_matches_dense_reference(layer_cls, rng):
    """The DGL layer equals a per-node loop over the equations (edge features on, isolated receivers included)."""
    torch.manual_seed(0)
    layer = layer_cls(IN_DIM, hidden=8, edge_dim=2).double()
    g = dgl.graph((torch.tensor([0, 1, 2, 3, 0, 2]), torch.tensor([1, 2, 0, 0, 3, 1])), num_nodes=5)  # node 4 has no in-edges
    h, x = _inputs(5, 3, rng)
    e = torch.as_tensor(rng.standard_normal((g.num_edges(), 2)))
    h_out, x_out = layer(g, h, x, e)
    h_ref, x_ref = _dense_layer(layer, g, h, x, e)
    torch.testing.assert_close(h_out, h_ref, msg=f"{layer_cls.__name__}: h' must match the dense reference")
    torch.testing.assert_close(x_out, x_ref, msg=f"{layer_cls.__name__}: x' must match the dense reference")


def test_gnn_kind_returns_x_and_is_not_invariant(rng):
    """kind="gnn": x is returned unchanged and h^L changes under a rotation (it reads raw coordinates)."""
    net, g = _net("gnn", 2), complete_graph(5)
    h, x = _inputs(5, 2, rng)
    h_out, x_out = net(g, h, x)
    assert torch.equal(x_out, x), "the GNN baseline must not update coordinates"
    h_rot, _ = net(g, h, x @ _orthogonal(2, rng, reflect=False).T)
    assert (h_rot - h_out).abs().max() > 1e-3, "the GNN baseline's h^L must depend on the orientation of x"


def test_forward_leaves_graph_unchanged(rng):
    """forward works in a local scope: the caller's graph gains no ndata or edata."""
    g = complete_graph(4)
    for kind in ("egnn", "e2gn2", "gnn"):
        _net(kind, 2)(g, *_inputs(4, 2, rng))
    assert not g.ndata.keys() and not g.edata.keys(), "forward must not write into the caller's graph"


@pytest.mark.parametrize("n", (1, 2, 5, 9))
@pytest.mark.parametrize("batch", (1, 3))
def test_complete_graph(n, batch):
    """complete_graph: batch components, n(n-1) edges each, in-degree n-1, no self-loops, no cross-component edges."""
    g = complete_graph(n, batch)
    assert g.batch_size == batch and g.num_nodes() == n * batch, "one component of n nodes per batch entry"
    assert g.num_edges() == batch * n * (n - 1), "n(n-1) directed edges per component"
    u, v = g.edges()
    assert not bool((u == v).any()), "no self-loops"
    assert torch.equal(u // n, v // n), "edges stay inside their component"
    assert bool((g.in_degrees() == n - 1).all()), "every node receives from the n-1 others"


def test_bad_inputs_raise_clear_errors():
    """Wrong widths, mismatched node counts, unknown options and missing edge features raise ValueError naming the problem."""
    g = complete_graph(5)
    layer = EGNNLayer(3, hidden=8)
    with pytest.raises(ValueError, match=r"h must have shape \(5, 3\)"):
        layer(g, torch.zeros(5, 4), torch.zeros(5, 2))
    with pytest.raises(ValueError, match=r"coordinates x must have shape \(5, D\)"):
        layer(g, torch.zeros(5, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="unknown kind 'se3'"):
        EquivariantGraphNetwork(3, kind="se3")
    with pytest.raises(ValueError, match="unknown coords_agg 'max'"):
        EGNNLayer(3, coords_agg="max")
    with pytest.raises(ValueError, match="coord_dim=2"):
        EquivariantGraphNetwork(3)(g, torch.zeros(5, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="edge_dim=0"):
        layer(g, torch.zeros(5, 3), torch.zeros(5, 2), torch.zeros(g.num_edges(), 1))
    with pytest.raises(ValueError, match=r"edge features must have shape \(20, 2\)"):
        EGNNLayer(3, edge_dim=2)(g, torch.zeros(5, 3), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="NaN"):
        layer(g, torch.zeros(5, 3), torch.full((5, 2), float("nan")))
    with pytest.raises(ValueError, match="num_nodes must be a positive integer"):
        complete_graph(0)
    with pytest.raises(ValueError, match="edge_dim must be a non-negative integer"):
        GNNLayer(3, edge_dim=-1)
