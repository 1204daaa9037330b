"""Tests for gnnrl_lite.experiments: seeding, the CI/full mode switch, timers, result files and claim tables."""

import random
import re

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

import dgl

from gnnrl_lite import __version__
from gnnrl_lite.envs import make_vec_env
from gnnrl_lite.experiments import MODES, ResultsFile, WallTimer, budget, claims_table, get_mode, run_metadata, seed_everything


def _draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1)), dgl.rand_graph(5, 8).edges()[0].tolist()


def test_seed_everything_repeats_random_numpy_torch_dgl_draws():
    """Seeding twice with the same seed repeats random, NumPy, PyTorch and DGL draws and the returned Generator."""
    g1 = seed_everything(3)
    a, r1 = _draws(), g1.random()
    g2 = seed_everything(3)
    b, r2 = _draws(), g2.random()
    assert a == b, "the same seed must repeat random/numpy/torch/dgl draws"
    assert r1 == r2 and isinstance(g1, np.random.Generator), "the returned Generator must be seeded"
    seed_everything(4)
    assert _draws()[:3] != a[:3], "a different seed must give different draws"


def test_seed_everything_seeds_env_spaces():
    """seed_everything(seed, env, vec_env) seeds the action/observation spaces so their samples repeat."""
    env, venv = gym.make("CartPole-v1"), make_vec_env("CartPole-v1", 2)

    def samples():
        return ([int(env.action_space.sample()) for _ in range(10)], env.observation_space.sample().tolist(),
                venv.action_space.sample().tolist(), venv.single_observation_space.sample().tolist())

    seed_everything(7, env, venv)
    first = samples()
    seed_everything(7, env, venv)
    assert samples() == first, "env space samples must repeat after seeding with the same seed"
    venv.close()


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_seed_everything_rejects_bad_seed(seed):
    """seed_everything raises ValueError for negative, non-integer or bool seeds."""
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(seed)


def test_get_mode_defaults_to_ci(monkeypatch):
    """get_mode is 'ci' when GNNRL_MODE is unset or empty."""
    monkeypatch.delenv("GNNRL_MODE", raising=False)
    assert get_mode() == "ci", "unset GNNRL_MODE must mean ci"
    monkeypatch.setenv("GNNRL_MODE", "")
    assert get_mode() == "ci", "empty GNNRL_MODE must mean ci"


@pytest.mark.parametrize("value, mode", [("full", "full"), ("ci", "ci"), (" FULL ", "full")])
def test_get_mode_accepts_known_modes(monkeypatch, value, mode):
    """get_mode accepts 'ci' and 'full' (case and surrounding spaces ignored)."""
    monkeypatch.setenv("GNNRL_MODE", value)
    assert get_mode() == mode and mode in MODES, f"GNNRL_MODE={value!r} must give {mode!r}"


def test_get_mode_rejects_unknown(monkeypatch):
    """get_mode raises ValueError naming GNNRL_MODE and the bad value."""
    monkeypatch.setenv("GNNRL_MODE", "fast")
    with pytest.raises(ValueError, match=r"GNNRL_MODE must be one of \('ci', 'full'\); got 'fast'"):
        get_mode()


@pytest.mark.parametrize("value, expected", [(None, 3), ("ci", 3), ("full", 10)])
def test_budget_picks_value_per_mode(monkeypatch, value, expected):
    """budget(ci, full) returns ci in CI mode and full in full mode."""
    if value is None:
        monkeypatch.delenv("GNNRL_MODE", raising=False)
    else:
        monkeypatch.setenv("GNNRL_MODE", value)
    assert budget(ci=3, full=10) == expected, "budget must pick the value of the current mode"


@pytest.mark.parametrize("mode", MODES)
def test_wall_timer_report_prints_mode_and_wall_time(monkeypatch, capsys, mode):
    """WallTimer.report prints and returns 'mode: <mode> | wall time: X s', plus the CI budget when given."""
    monkeypatch.setenv("GNNRL_MODE", mode)
    timer = WallTimer(budget_s=60)
    line = timer.report()
    assert re.fullmatch(rf"mode: {mode} \| wall time: \d+\.\d s \(CI budget 60 s\)", line), "report must state mode, wall time and budget"
    assert capsys.readouterr().out.strip() == line, "report must print its line"
    assert timer.elapsed >= 0 and re.fullmatch(rf"mode: {mode} \| wall time: \d+\.\d s", WallTimer().report()), "no budget: no budget text"


def test_results_file_append_read_done(tmp_path):
    """ResultsFile appends rows (creating folders), reads them back, and done() lists only (run, seed) with final == 1."""
    rf = ResultsFile(tmp_path / "sub" / "results.csv")
    assert rf.read().empty and rf.done(("run", "seed")) == set(), "a missing file reads as empty with nothing done"
    rows = [
        {"run": "gnn", "seed": 0, "step": 10, "ret": 1.5, "final": 0},
        {"run": "gnn", "seed": 0, "step": 20, "ret": 2.5, "final": 1},
        {"run": "gnn", "seed": 1, "step": 10, "ret": 0.5, "final": 0},
        {"run": "mlp", "seed": 0, "step": 20, "ret": 3.0, "final": 1},
    ]
    for r in rows:
        rf.append(r)
    df = rf.read()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(rows[0]), "columns must be those of the first row"
    assert df.to_dict("records") == rows, "read must return the appended rows in order"
    assert rf.done(("run", "seed")) == {("gnn", 0), ("mlp", 0)}, "done must list the keys that have a final row"
    assert ResultsFile(rf.path).done(("run", "seed")) == {("gnn", 0), ("mlp", 0)}, "a new ResultsFile on the path must resume"


def test_results_file_rejects_unknown_columns(tmp_path):
    """ResultsFile.append raises ValueError naming columns not in the file's header, or missing from the row."""
    rf = ResultsFile(tmp_path / "r.csv")
    rf.append({"run": "a", "seed": 0})
    with pytest.raises(ValueError, match=r"unknown \['extra'\]"):
        rf.append({"run": "a", "seed": 1, "extra": 3})
    with pytest.raises(ValueError, match=r"missing \['seed'\]"):
        rf.append({"run": "a"})
    assert len(rf.read()) == 1, "a rejected row must not be written"


def test_results_file_done_without_final_column(tmp_path):
    """done() is empty when the file has no 'final' column."""
    rf = ResultsFile(tmp_path / "r.csv")
    rf.append({"run": "a", "seed": 0})
    assert rf.done(("run", "seed")) == set(), "without a final column nothing is done"


def test_results_file_fetch_or_run_records_once_and_reads_back(tmp_path):
    f = ResultsFile(tmp_path / "r.csv")
    calls = []
    compute = lambda: calls.append(1) or [{"size": 10, "ratio": 1.5}, {"size": 20, "ratio": 1.25}]
    rows = f.fetch_or_run({"method": "dqn", "seed": 3}, compute)
    assert rows[0] == {"method": "dqn", "seed": 3, "size": 10, "ratio": 1.5} and len(calls) == 1
    again = f.fetch_or_run({"method": "dqn", "seed": 3}, compute)          # finished: read back, not recomputed
    assert len(calls) == 1 and [r["ratio"] for r in again] == [1.5, 1.25]
    assert set(again[0]) >= {"command", "commit", "date", "attempt", "final"}
    f.fetch_or_run({"method": "dqn", "seed": 4}, compute)                  # another key runs
    assert len(calls) == 2 and len(f.complete()) == 4


def test_results_file_fetch_or_run_without_record_never_writes(tmp_path):
    f = ResultsFile(tmp_path / "r.csv")
    rows = f.fetch_or_run({"seed": 0}, lambda: [{"x": 1}], record=False)
    assert rows == [{"seed": 0, "x": 1}] and not f.path.exists()


@pytest.mark.parametrize("key, compute, match", [({}, lambda: [{"x": 1}], "non-empty"), ({"seed": 0}, lambda: [], "no rows")])
def test_results_file_fetch_or_run_rejects_bad_input(tmp_path, key, compute, match):
    with pytest.raises(ValueError, match=match):
        ResultsFile(tmp_path / "r.csv").fetch_or_run(key, compute)


def test_run_metadata_has_documented_keys():
    """run_metadata has command, seed, package/torch/dgl versions, commit and an ISO UTC date."""
    meta = run_metadata(3, command="python train.py")
    assert set(meta) == {"command", "seed", "gnnrl_lite", "torch", "dgl", "commit", "date"}, "metadata must have the documented keys"
    assert meta["command"] == "python train.py" and meta["seed"] == 3, "command and seed must be recorded as given"
    assert meta["gnnrl_lite"] == __version__ and meta["torch"] == torch.__version__ and meta["dgl"] == dgl.__version__, "versions"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["date"]), "date must be ISO 8601 UTC"
    assert isinstance(meta["commit"], str) and meta["commit"], "commit must be a non-empty string"
    assert isinstance(run_metadata(0)["command"], str), "the default command must be a string"


def test_claims_table_shape_and_columns():
    """claims_table returns one row per claim with the four documented columns."""
    df = claims_table([("GNN beats MLP", "0.81", "0.78", "0.80"), ["PPO solves CartPole", "500", "480", "500"]])
    assert df.shape == (2, 4), "claims_table must be (rows, 4)"
    assert list(df.columns) == ["claim", "source", "ours (CI mode)", "ours (full mode)"], "documented column names"
    assert df.iloc[1, 0] == "PPO solves CartPole", "rows must keep their order"


def test_claims_table_shows_long_cells_in_full():
    """The HTML and text of a claims table keep every character of a long cell (pandas cuts at 50 by default)."""
    claim = "Snowflake's updates are smaller than NerveNet's over every seed we ran, " * 2
    df = claims_table([(claim, "source", "ours", "full")])
    assert claim.strip() in df._repr_html_() and claim.strip() in repr(df)
    assert "..." not in df._repr_html_()
    assert isinstance(df.iloc[:1], type(df)), "slices keep the full display"


def test_claims_table_rejects_row_not_four_long():
    """claims_table raises ValueError naming the row index and its length for a row that is not 4 long."""
    with pytest.raises(ValueError, match=r"claims_table row 1 has 3 entries; expected 4"):
        claims_table([("a", "b", "c", "d"), ("a", "b", "c")])
