"""Tests for gnnrl_lite.plotting: mean and standard error over seeds, and labelled learning-curve plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gnnrl_lite.plotting import mean_and_se, plot_learning_curves  # noqa: E402


def test_mean_and_se_two_seeds_known_values():
    """Two seeds y=2x and y=2x+2 on x in [0, 2] give mean 2x+1 and SE = std(ddof=1)/sqrt(2) = 1."""
    curves = [([0, 1, 2], [0, 2, 4]), ([0, 1, 2], [2, 4, 6])]
    grid, mean, se = mean_and_se(curves, num=3)
    np.testing.assert_allclose(grid, [0, 1, 2], err_msg="grid must span the common x range")
    np.testing.assert_allclose(mean, [1, 3, 5], err_msg="mean must average the seeds")
    np.testing.assert_allclose(se, [1, 1, 1], err_msg="SE must be the sample std over seeds / sqrt(K)")


def test_mean_and_se_interpolates_onto_common_range():
    """Curves with different x grids are interpolated onto the range every seed covers."""
    curves = [([0, 10], [0, 10]), ([2, 4, 8], [0, 0, 0])]
    grid, mean, se = mean_and_se(curves, num=4)
    np.testing.assert_allclose(grid, [2, 4, 6, 8], err_msg="grid must span [max of starts, min of ends]")
    np.testing.assert_allclose(mean, grid / 2, err_msg="mean must average the interpolated curves")
    np.testing.assert_allclose(se, grid / 2, err_msg="SE of two seeds must be |y1 - y2| / 2")


def test_mean_and_se_explicit_grid_and_one_seed():
    """An explicit grid is used as given, and one seed has zero standard error."""
    grid, mean, se = mean_and_se([([0, 4], [0, 8])], grid=np.array([1.0, 3.0]))
    np.testing.assert_allclose(mean, [2, 6], err_msg="one seed: mean is its interpolated curve")
    np.testing.assert_array_equal(se, [0, 0], err_msg="one seed must have zero standard error")


@pytest.mark.parametrize("curves, match", [
    ([], "need at least one"),
    ([([0, 1], [0, 1, 2])], "curve 0: x and y must be non-empty 1-D arrays of equal length"),
    ([([0, 1], [0, 1]), ([], [])], "curve 1: x and y must be non-empty"),
    ([([0, 2, 1], [0, 1, 2])], "curve 0: x must be non-decreasing"),
])
def test_mean_and_se_rejects_bad_curves(curves, match):
    """mean_and_se raises ValueError naming the offending curve for empty, ragged or decreasing input."""
    with pytest.raises(ValueError, match=match):
        mean_and_se(curves)


def test_mean_and_se_never_extrapolates():
    """mean_and_se rejects seeds whose x ranges do not overlap instead of extrapolating."""
    with pytest.raises(ValueError, match="do not overlap"):
        mean_and_se([([0, 1], [0, 1]), ([2, 3], [5, 6])])


def test_plot_learning_curves_labels_and_legend():
    """plot_learning_curves labels both axes, sets the title and a legend naming each method with its number of seeds."""
    fig, ax = plt.subplots()
    curves = {"GNN": [([0, 1, 2], [0, 1, 2]), ([0, 1, 2], [1, 2, 3])], "MLP": [([0, 2], [0, 1])]}
    out = plot_learning_curves(ax, curves, xlabel="environment steps", ylabel="return", title="GNN learns faster", target=2.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    assert out is ax, "plot_learning_curves must return the axes"
    assert ax.get_xlabel() == "environment steps" and ax.get_ylabel() == "return", "both axes must be labelled"
    assert ax.get_title() == "GNN learns faster", "the title must be set"
    assert "GNN (2 seeds)" in labels and "MLP (1 seed)" in labels, "the legend must state each method's number of seeds"
    assert "target 2" in labels, "the target line must be in the legend"
    assert len(ax.collections) == 2, "each method must get one shaded SE band"


def test_plot_learning_curves_default_labels():
    """Without explicit labels the axes read 'environment steps' and 'episodic return'."""
    fig, ax = plt.subplots()
    plot_learning_curves(ax, {"PPO": [([0, 1], [0, 1]), ([0, 1], [1, 2])]})
    plt.close(fig)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("environment steps", "episodic return"), "default axis labels"


def test_plot_learning_curves_rejects_empty():
    """plot_learning_curves raises ValueError for an empty mapping."""
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="curves is empty"):
        plot_learning_curves(ax, {})
    plt.close(fig)
