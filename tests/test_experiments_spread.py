"""Chapter 7's runs: policies per kind, test starts, greedy team returns, one run's rows and the resumable CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnnrl_lite.experiments import ResultsFile
from gnnrl_lite.experiments import spread as exp
from gnnrl_lite.marl import GraphTeamActorCritic, SpreadAgents
from gnnrl_lite.policies import MLPActorCritic


def test_ppo_config_counts_streams():
    cfg = exp.ppo_config(12_000, copies=4)
    assert (cfg.num_envs, cfg.num_steps, cfg.num_minibatches, cfg.update_epochs, cfg.learning_rate) == (12, 25, 4, 4, 1e-3)


@pytest.mark.parametrize("kind", exp.KINDS)
def test_make_policy_reads_its_observation_kind(kind):
    policy = exp.make_policy(kind)
    env = SpreadAgents(2, obs="mpe" if kind == "mlp" else "scene")
    dist, value = policy(torch.as_tensor(env.reset(seed=0)[0]))
    assert dist.mean.shape == (6, 2) and value.shape == (6,)
    assert torch.allclose(policy.log_std.exp(), torch.full((2,), np.exp(-1.0)))
    assert isinstance(policy, MLPActorCritic if kind == "mlp" else GraphTeamActorCritic)


def test_make_policy_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        exp.make_policy("transformer")


def test_with_team_size_keeps_weights_and_refuses_the_mlp():
    torch.manual_seed(0)
    policy = exp.make_policy("e2gn2")
    same, bigger = exp.with_team_size(policy, 3), exp.with_team_size(policy, 5)
    obs = torch.as_tensor(SpreadAgents(2).reset(seed=0)[0])
    with torch.no_grad():
        assert torch.equal(same.mean_movement(obs), policy.mean_movement(obs))
        assert bigger.mean_movement(torch.as_tensor(SpreadAgents(2, num_agents=5).reset(seed=0)[0])).shape == (10, 2)
    with pytest.raises(TypeError, match="input size is fixed"):
        exp.with_team_size(exp.make_policy("mlp"), 4)


def test_test_starts_are_seeded_and_in_their_region():
    left = exp.test_starts(16, num_agents=4, region="left", seed=3)
    assert left.shape == (16, 8, 2) and (left[..., 0] <= 0).all()
    assert np.array_equal(left, exp.test_starts(16, num_agents=4, region="left", seed=3))


def test_mirror_x_flips_x_only_and_checks_its_input():
    assert np.array_equal(exp.mirror_x(np.array([[1.0, 2.0], [-3.0, 4.0]])), np.array([[-1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="last axis"):
        exp.mirror_x(np.zeros((3, 3)))


def test_team_return_of_standing_still_matches_the_reward_by_hand():
    starts = exp.test_starts(4, region="all", seed=0)
    agents, landmarks = starts[:, :3], starts[:, 3:]
    coverage = np.linalg.norm(agents[:, :, None] - landmarks[:, None], axis=-1).min(axis=1).sum(axis=1)  # (E,)
    collisions = (np.linalg.norm(agents[:, :, None] - agents[:, None], axis=-1) < 0.3).sum(axis=2) - 1  # (E, N)
    by_hand = (25 * (-0.5 * coverage[:, None] - 0.5 * collisions)).mean()
    assert exp.team_return(None, starts, 3) == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="shape"):
        exp.team_return(None, starts, 4)


def test_greedy_rollout_returns_streams_and_paths():
    starts = exp.test_starts(4, region="all", seed=0)
    returns, paths = exp.greedy_rollout(None, starts, 3)
    assert returns.shape == (12,) and paths.shape == (25, 4, 6, 2)
    assert np.array_equal(paths[0], starts) and np.array_equal(paths[-1], starts), "standing still, nobody moves"
    torch.manual_seed(0)
    _, moved = exp.greedy_rollout(exp.make_policy("egnn"), starts, 3)
    assert np.array_equal(moved[0], starts) and not np.allclose(moved[-1, :, :3], starts[:, :3]), "EGNN agents move"
    assert np.array_equal(moved[:, :, 3:], np.broadcast_to(starts[:, 3:], moved[:, :, 3:].shape)), "landmarks stay"


def test_team_return_of_an_equivariant_policy_is_mirror_invariant():
    torch.manual_seed(0)
    policy, starts = exp.make_policy("e2gn2"), exp.test_starts(8, seed=1)
    assert exp.team_return(policy, exp.mirror_x(starts), 3) == pytest.approx(exp.team_return(policy, starts, 3), abs=1e-4)


@pytest.mark.parametrize("kind, evals", [("mlp", 3), ("e2gn2", 3 + len(exp.TEAM_SIZES))])
def test_run_returns_curve_and_eval_rows(kind, evals, monkeypatch):
    monkeypatch.setattr(exp, "_tests", _small_tests(exp._tests))
    rows = exp.run(kind, 0, 2400, progress=False)
    assert [r["what"] for r in rows].count("eval") == evals
    assert rows[0]["what"] == "curve" and rows[0]["step"] == 2400
    assert {"step", "region", "agents", "ret", "zero_ret", "wall_s"} <= set(rows[0])
    assert all(np.isfinite(r["ret"]) for r in rows)


def _small_tests(tests):
    def small(kind):
        return [(region, n, starts[:4]) for region, n, starts in tests(kind)]
    return small


def test_main_records_runs_and_skips_finished_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(exp, "_tests", _small_tests(exp._tests))
    monkeypatch.setenv("GNNRL_COMMAND", "python -m gnnrl_lite.experiments.spread (test)")
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # leave the session's thread count alone
    out = tmp_path / "r.csv"
    exp.main(["--kinds", "mlp", "--seeds", "0", "--steps", "1200", "--out", str(out)])
    first = ResultsFile(out).read()
    assert (first["kind"] == "mlp").all() and first["final"].sum() == 1
    assert (first["command"] == "python -m gnnrl_lite.experiments.spread (test)").all()
    exp.main(["--kinds", "mlp", "--seeds", "0", "--steps", "1200", "--out", str(out)])
    assert len(ResultsFile(out).read()) == len(first), "a finished run is not run again"
