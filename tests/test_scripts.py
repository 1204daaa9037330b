"""Smoke tests for the committed scripts: scripts/execute.py, scripts/run_full.py and scripts/bench_centipede.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = _load("execute")
run_full = _load("run_full")


def test_collapse_carriage_returns_keeps_the_last_refresh():
    """A progress bar's refreshes collapse to what a terminal would show last."""
    assert execute.collapse_carriage_returns("\rbar 10%\rbar 50%\rbar 100%\nnext\n") == "bar 100%\nnext\n"
    assert execute.collapse_carriage_returns("plain\n") == "plain\n"


def test_tidy_streams_merges_consecutive_streams():
    """Consecutive stderr outputs become one output holding the final state of each bar."""
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="\ra 1%"),
                    nbformat.v4.new_output("stream", name="stderr", text="\ra 100%\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    execute.tidy_streams(nb)
    assert [o.text for o in nb.cells[0].outputs] == ["a 100%\n", "done\n"], "streams must be merged and collapsed"


def _tiny_notebook(path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nprint(os.environ['GNNRL_MODE'], os.environ.get('GNNRL_COMMAND', ''))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_execute_runs_a_notebook_in_ci_mode(tmp_path, monkeypatch):
    """scripts/execute.py runs a notebook top to bottom in CI mode and stores its outputs."""
    monkeypatch.delenv("GNNRL_MODE", raising=False)
    path = tmp_path / "tiny.ipynb"
    _tiny_notebook(path)
    assert execute.main([str(path)]) == 0
    out = nbformat.read(path, as_version=4).cells[0]
    assert out.execution_count == 1 and out.outputs[0].text.startswith("ci"), "the notebook must run in CI mode"


def test_run_full_rejects_a_non_notebook(tmp_path):
    """scripts/run_full.py refuses a path that is not a notebook."""
    with pytest.raises(SystemExit):
        run_full.main([str(tmp_path / "missing.txt")])


def test_bench_centipede_measures_three_rates_and_records_them(tmp_path):
    """scripts/bench_centipede.py prints the three rates with their share of the raw rate and appends one row each."""
    import subprocess
    import sys

    import pandas as pd

    pytest.importorskip("mujoco")
    out = tmp_path / "throughput.csv"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_centipede.py"), "--n", "4", "--seconds", "0.2",
                          "--ppo-steps", "256", "--num-envs", "2", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("of raw") == 3 and "100.0% of raw" in run.stdout
    rows = pd.read_csv(out)
    assert list(rows["measure"]) == ["raw simulator", "Gymnasium env", "PPO end to end (NerveNet)"]
    assert (rows["steps_per_s"] > 0).all() and list(rows["final"]) == [0, 0, 1] and (rows["threads"] == 1).all()
    assert rows["command"].str.startswith("python scripts/bench_centipede.py").all()
