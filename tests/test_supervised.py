"""Tests for gnnrl_lite.supervised: accuracy on a hand example and a full-batch node-classification loop."""

import pytest
import torch
from torch import nn

import dgl

from gnnrl_lite.nn import MPNNLayer
from gnnrl_lite.supervised import accuracy, fit_classifier


class _FeatureOnly(nn.Module):
    """Linear classifier that ignores the graph: f(g, x) = W x + b."""

    def __init__(self, d, c):
        super().__init__()
        self.lin = nn.Linear(d, c)

    def forward(self, g, x):
        return self.lin(x)


class _OneLayerGNN(nn.Module):
    def __init__(self, d, c):
        super().__init__()
        self.mp = MPNNLayer(d, c, hidden=8)

    def forward(self, g, x):
        return self.mp(g, x)


def _separable_problem(n=20):
    x = torch.randn(n, 2)
    y = (x[:, 0] > 0).long()
    x[:, 0] += torch.where(y == 1, 1.0, -1.0)  # margin of at least 1
    g = dgl.graph((torch.arange(n), (torch.arange(n) + 1) % n))
    return g, x, y


def test_accuracy_hand_example():
    """accuracy counts masked nodes whose arg-max logit equals the label: 2 of 3 here."""
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 5.0]])
    labels = torch.tensor([0, 1, 1, 0])
    mask = torch.tensor([True, True, True, False])
    assert accuracy(logits, labels, mask) == pytest.approx(2 / 3), "accuracy must be the fraction of correct masked nodes"
    assert accuracy(logits, labels, torch.tensor([False, False, False, True])) == 0.0, "only masked nodes count"


def test_accuracy_rejects_bad_input():
    """accuracy raises ValueError for mismatched shapes and for an empty mask."""
    with pytest.raises(ValueError, match=r"logits \(N, C\), labels \(N,\) and mask \(N,\) must agree"):
        accuracy(torch.zeros(3, 2), torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask selects no nodes"):
        accuracy(torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.bool))


def test_accuracy_integer_mask_is_rejected():
    """accuracy rejects a 0/1 integer mask (it would index rows 0 and 1 instead of selecting nodes)."""
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 5.0]])
    labels = torch.tensor([0, 1, 1, 0])
    int_mask = torch.tensor([0, 0, 0, 1])
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        accuracy(logits, labels, int_mask)


@pytest.mark.parametrize("model_cls", [_FeatureOnly, _OneLayerGNN])
def test_fit_classifier_reduces_loss_on_separable_problem(model_cls):
    """fit_classifier returns one loss per epoch, reduces the loss and fits a separable problem (train acc 1)."""
    g, x, y = _separable_problem()
    train_mask = torch.arange(20) < 14
    model = model_cls(2, 2)
    losses = fit_classifier(model, g, x, y, train_mask, epochs=150, lr=0.05, weight_decay=0.0)
    assert len(losses) == 150, "one loss per epoch"
    assert losses[-1] < 0.5 * losses[0], "training must reduce the cross-entropy loss"
    assert not model.training, "the model must be left in eval mode"
    with torch.no_grad():
        assert accuracy(model(g, x), y, train_mask) == 1.0, "a separable problem must be fitted on the training nodes"


def test_fit_classifier_rejects_bad_input():
    """fit_classifier raises ValueError for a row mismatch and for a non-bool or mis-shaped train mask."""
    g, x, y = _separable_problem(4)
    with pytest.raises(ValueError, match="returned 4 rows of logits but labels has 3"):
        fit_classifier(_FeatureOnly(2, 2), g, x, y[:3], torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="train_mask must be a bool tensor"):
        fit_classifier(_FeatureOnly(2, 2), g, x, y, torch.ones(4))


def test_fit_classifier_progress_bar_runs(capsys):
    """progress=True shows a tqdm bar on stderr and still returns one loss per epoch."""
    g, x, y = _separable_problem()
    losses = fit_classifier(_FeatureOnly(2, 2), g, x, y, torch.ones_like(y, dtype=torch.bool), epochs=3, progress=True)
    assert len(losses) == 3 and "epochs" in capsys.readouterr().err, "a progress bar must be printed"


def test_fit_classifier_trains_a_graph_classifier():
    """fit_classifier also fits graph-level logits (one row per graph of a batch): graphs labelled by their size."""
    from gnnrl_lite.nn import GraphPredictor

    graphs = [dgl.graph((torch.arange(n - 1), torch.arange(1, n)), num_nodes=n) for n in (2, 3, 6, 7)]
    g = dgl.batch(graphs)
    y = torch.tensor([0, 0, 1, 1])
    model = GraphPredictor(1, 2, hidden=8, readout="sum")
    losses = fit_classifier(model, g, torch.ones(g.num_nodes(), 1), y, torch.ones(4, dtype=torch.bool), epochs=200, lr=0.02, weight_decay=0.0)
    assert losses[-1] < losses[0], "the loss must decrease"
    assert accuracy(model(g, torch.ones(g.num_nodes(), 1)), y, torch.ones(4, dtype=torch.bool)) == 1.0, "small and large graphs separated"
