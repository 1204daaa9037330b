"""Centipede pictures: node positions on the body, the drawn morphology graph, and rendering (or its fallback)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("mujoco")

from gnnrl_lite.envs import centipede_figure as cf  # noqa: E402
from gnnrl_lite.envs.centipede import NODE_TYPES, joint_names  # noqa: E402


@pytest.mark.parametrize("n", [4, 6, 20])
def test_morphology_positions_put_nodes_on_the_body(n):
    pos = cf.morphology_positions(n)
    assert pos.shape == (3 * n - 1, 3) and np.isfinite(pos).all()
    np.testing.assert_allclose(pos[0], [0.0, 0.0, 0.75])  # the root at torso_0's centre, rest pose
    names = joint_names(n)
    ankle = [j + 1 for j, name in enumerate(names) if name.startswith("ankle")]
    hip = [j + 1 for j, name in enumerate(names) if "hip" in name]
    assert np.abs(pos[ankle, 1]).min() > np.abs(pos[hip, 1]).max(), "ankles sit further out than hips"
    assert pos[:, 0].max() == pytest.approx(0.5 * (n // 2 - 1)), "the last torso is 0.5 per segment ahead"


def test_draw_morphology_draws_every_node_and_edge_with_a_legend():
    fig, ax = plt.subplots()
    cf.draw_morphology(ax, 6)
    assert len(ax.lines) == 3 * 6 - 2  # one line per tree edge
    assert sum(len(c.get_offsets()) for c in ax.collections) == 3 * 6 - 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(NODE_TYPES)
    assert ax.get_xlabel() and ax.get_ylabel() and "17 nodes" in ax.get_title()
    with pytest.raises(ValueError, match="positions"):
        cf.draw_morphology(ax, 6, positions=np.zeros((5, 3)))
    plt.close(fig)


def test_render_returns_a_frame_or_none_without_opengl(monkeypatch):
    frame = cf.render(4, width=64, height=48)
    assert frame is None or (frame.shape == (48, 64, 3) and frame.dtype == np.uint8)

    class NoGL:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("no OpenGL context")

    import mujoco

    with pytest.raises(ValueError, match="settle_steps"):
        cf.render(4, settle_steps=-1)
    monkeypatch.setattr(mujoco, "Renderer", NoGL)
    assert cf.render(4) is None
