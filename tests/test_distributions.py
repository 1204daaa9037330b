"""Tests for gnnrl_lite.distributions.MaskedCategorical: masked actions get zero probability, finite gradients."""

import pytest
import torch

from gnnrl_lite.distributions import MaskedCategorical


def _random_case(b=5, a=6, seed=0):
    """Random logits with large scores on masked entries (to tempt a wrong mask) and >= 1 valid entry per row."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.rand(b, a, generator=gen) < 0.5
    mask[torch.arange(b), torch.randint(0, a, (b,), generator=gen)] = True
    logits = torch.randn(b, a, generator=gen)
    logits = torch.where(mask, logits, logits + 20.0)
    return logits, mask


def _reference_probs(logits, mask):
    """Softmax over each row's valid entries, zeros elsewhere."""
    probs = torch.zeros_like(logits)
    for i in range(logits.shape[0]):
        probs[i, mask[i]] = torch.softmax(logits[i, mask[i]], 0)
    return probs


def test_never_samples_masked_action():
    """Thousands of draws never return a masked action, and every valid action shows up."""
    logits, mask = _random_case(b=4, a=6)
    rows = torch.arange(4).repeat(1000)
    d = MaskedCategorical(logits[rows], mask[rows])
    actions = d.sample()
    assert actions.shape == (4000,) and actions.dtype == torch.int64, "sample must return (B,) int64"
    assert bool(mask[rows, actions].all()), "MaskedCategorical must never sample a masked action"
    seen = torch.zeros_like(mask)
    seen[rows, actions] = True
    assert torch.equal(seen, mask), "every valid action must be sampled at least once over many draws"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probs_sum_to_one_and_match_masked_softmax(seed):
    """probs sum to 1 per row, are exactly 0 at masked entries and equal the softmax over valid entries."""
    logits, mask = _random_case(seed=seed)
    d = MaskedCategorical(logits, mask)
    torch.testing.assert_close(d.probs.sum(1), torch.ones(5), msg="probs must sum to 1 in each row")
    assert bool((d.probs[~mask] == 0).all()), "masked entries must have probability exactly 0"
    assert bool(torch.isneginf(d.log_probs[~mask]).all()), "masked entries must have log-probability -inf"
    torch.testing.assert_close(d.probs, _reference_probs(logits, mask), msg="probs must equal the softmax over valid entries")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_entropy_equals_minus_p_log_p_over_valid_entries(seed):
    """entropy() equals -sum_a p_a log p_a over each row's valid entries."""
    logits, mask = _random_case(seed=seed)
    d = MaskedCategorical(logits, mask)
    p = _reference_probs(logits, mask)
    ref = torch.stack([-(p[i, mask[i]] * p[i, mask[i]].log()).sum() for i in range(5)])
    torch.testing.assert_close(d.entropy(), ref, msg="entropy must equal -(p log p) over valid entries")
    single = MaskedCategorical(torch.randn(1, 4), torch.tensor([[False, True, False, False]]))
    assert single.entropy().item() == 0.0, "a row with one valid action must have zero entropy"


def test_log_prob_matches_reference():
    """log_prob(a) equals log of the masked-softmax probability of a valid action a."""
    logits, mask = _random_case()
    d = MaskedCategorical(logits, mask)
    actions = d.sample()
    ref = _reference_probs(logits, mask)[torch.arange(5), actions].log()
    torch.testing.assert_close(d.log_prob(actions), ref, msg="log_prob must match the masked softmax")


def test_mode_is_most_probable_valid_action():
    """mode returns the arg-max over valid actions, ignoring a larger masked logit."""
    d = MaskedCategorical(torch.tensor([[5.0, 1.0, 2.0], [0.0, 9.0, 3.0]]), torch.tensor([[False, True, True], [True, False, True]]))
    assert d.mode.tolist() == [2, 2], "mode must be the most probable valid action"


def test_gradients_are_finite_with_masked_entries():
    """Backward through entropy and log_prob with masked entries gives finite gradients, zero at masked logits."""
    logits, mask = _random_case()
    logits.requires_grad_(True)
    d = MaskedCategorical(logits, mask)
    actions = d.sample()
    (d.entropy().sum() + d.log_prob(actions).sum()).backward()
    assert bool(torch.isfinite(logits.grad).all()), "gradients through entropy and log_prob must be finite (no NaN)"
    assert bool((logits.grad[~mask] == 0).all()), "masked logits must receive zero gradient"
    assert bool((logits.grad[mask] != 0).any()), "valid logits must receive a gradient"


def test_from_graph_batch_of_different_sizes():
    """from_graph pads per-graph scores: probs per graph = masked softmax of its own nodes, zero on padding."""
    sizes = torch.tensor([1, 4, 2])
    scores = torch.randn(7)
    node_mask = torch.tensor([True, True, False, True, False, False, True])
    d = MaskedCategorical.from_graph(scores, sizes, node_mask)
    assert d.probs.shape == (3, 4), "from_graph must give (B, N_max) probabilities"
    chunks, masks = scores.split(sizes.tolist()), node_mask.split(sizes.tolist())
    for b, (s, m) in enumerate(zip(chunks, masks)):
        ref = torch.zeros(4)
        ref[: len(s)][m] = torch.softmax(s[m], 0)
        torch.testing.assert_close(d.probs[b], ref, msg=f"graph {b}: probs must be the masked softmax over its own nodes")
    actions = MaskedCategorical.from_graph(scores, sizes, node_mask).sample()
    assert bool((actions < sizes).all()), "sampled local node indices must lie inside each graph"
    no_mask = MaskedCategorical.from_graph(scores, sizes)
    torch.testing.assert_close(no_mask.probs.sum(1), torch.ones(3), msg="without a mask every real node is valid")
    assert bool((no_mask.probs[0, 1:] == 0).all()), "padding slots must have zero probability"


def test_rejects_row_without_valid_action():
    """MaskedCategorical raises ValueError listing the rows whose action mask has no valid action."""
    mask = torch.tensor([[True, False], [False, False], [True, True], [False, False]])
    with pytest.raises(ValueError, match=r"action mask has no valid action in row\(s\) \[1, 3\]"):
        MaskedCategorical(torch.zeros(4, 2), mask)


def test_from_graph_rejects_graph_without_valid_node():
    """from_graph raises ValueError naming the graph (row) whose nodes are all masked."""
    with pytest.raises(ValueError, match=r"no valid action in row\(s\) \[1\]"):
        MaskedCategorical.from_graph(torch.zeros(5), torch.tensor([2, 3]), torch.tensor([True, False, False, False, False]))


def test_rejects_bad_shapes_and_actions():
    """Bad logits/mask/scores shapes and masked or out-of-range actions raise ValueError naming the shape."""
    with pytest.raises(ValueError, match=r"logits must have shape \(B, A\); got \(3,\)"):
        MaskedCategorical(torch.zeros(3), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask shape \(2, 2\) does not match logits shape \(2, 3\)"):
        MaskedCategorical(torch.zeros(2, 3), torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"scores must have shape \(N,\)"):
        MaskedCategorical.from_graph(torch.zeros(3, 1), torch.tensor([3]))
    with pytest.raises(ValueError, match=r"mask must have shape \(3,\); got \(2,\)"):
        MaskedCategorical.from_graph(torch.zeros(3), torch.tensor([3]), torch.ones(2, dtype=torch.bool))
    d = MaskedCategorical(torch.zeros(2, 3), torch.tensor([[True, False, True], [True, True, True]]))
    with pytest.raises(ValueError, match="an action is masked out"):
        d.log_prob(torch.tensor([1, 0]))
    with pytest.raises(ValueError, match=r"actions must lie in \[0, 3\)"):
        d.log_prob(torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"actions must have shape \(2,\)"):
        d.log_prob(torch.tensor([0]))


def test_masked_categorical_rejects_nan_logits():
    """NaN scores raise a clear ValueError instead of NaN probabilities."""
    with pytest.raises(ValueError, match="NaN"):
        MaskedCategorical(torch.tensor([[0.0, float("nan")]]), torch.tensor([[True, True]]))
