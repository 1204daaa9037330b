r"""Learning curves with mean and standard-error bands over seeds.

For seeds :math:`k = 1..K` with curves :math:`y_k(x)` (interpolated onto a common grid of ``x``),
the plot shows :math:`\bar y(x) = \frac1K \sum_k y_k(x)` and the band
:math:`\bar y \pm \mathrm{SE}` with :math:`\mathrm{SE} = s / \sqrt{K}`, :math:`s` the sample standard
deviation across seeds. The legend states :math:`K`; the axes are always labelled.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = ["mean_and_se", "plot_learning_curves"]


def mean_and_se(curves: Sequence[tuple[Sequence[float], Sequence[float]]], grid: np.ndarray | None = None, num: int = 100):
    """Interpolate per-seed ``(x, y)`` curves onto a common grid; return ``(grid, mean, se)``.

    The grid spans the range that *every* seed covers (no extrapolation). With one seed the
    standard error is zero.
    """
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves]
    if not curves:
        raise ValueError("need at least one (x, y) curve")
    for i, (x, y) in enumerate(curves):
        if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
            raise ValueError(f"curve {i}: x and y must be non-empty 1-D arrays of equal length; got {x.shape} and {y.shape}")
        if np.any(np.diff(x) < 0):
            raise ValueError(f"curve {i}: x must be non-decreasing")
    if grid is None:
        lo, hi = max(x[0] for x, _ in curves), min(x[-1] for x, _ in curves)
        if hi < lo:
            raise ValueError(f"the curves' x ranges do not overlap (common range [{lo}, {hi}]); pass a grid to compare them")
        grid = np.linspace(lo, hi, num) if hi > lo else np.array([hi])
    ys = np.stack([np.interp(grid, x, y) for x, y in curves])  # (K, G)
    se = ys.std(axis=0, ddof=1) / np.sqrt(len(ys)) if len(ys) > 1 else np.zeros(len(grid))
    return grid, ys.mean(axis=0), se


def plot_learning_curves(ax, curves: Mapping[str, Sequence[tuple[Sequence[float], Sequence[float]]]], *,
                         xlabel: str = "environment steps", ylabel: str = "episodic return", title: str | None = None,
                         target: float | None = None):
    """Plot one mean curve with a shaded standard-error band per method.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    curves : mapping
        ``{method name: [(x_seed1, y_seed1), (x_seed2, y_seed2), ...]}``.
    xlabel, ylabel, title : str
        Axis labels (with units) and a title stating the claim.
    target : float, optional
        Draw a dashed horizontal line, e.g. the return that counts as solved.
    """
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    for name, runs in curves.items():
        grid, mean, se = mean_and_se(runs)
        k = len(runs)
        (line,) = ax.plot(grid, mean, label=f"{name} ({k} seed{'s' if k != 1 else ''})")
        ax.fill_between(grid, mean - se, mean + se, color=line.get_color(), alpha=0.25, linewidth=0)
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
