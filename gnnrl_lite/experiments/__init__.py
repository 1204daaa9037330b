"""Experiment plumbing: seeding, the CI/full mode switch, timers, result files and claim tables.

- :func:`seed_everything` seeds ``random``, NumPy, PyTorch, DGL and (optionally) Gymnasium spaces
  in one visible call at the top of every chapter.
- :func:`get_mode` / :func:`budget` read ``GNNRL_MODE`` (``ci`` by default, or ``full``) so one
  notebook serves both the 2-core CI budget and the longer full-mode runs.
- :class:`WallTimer` prints the mode and wall time at the end of a chapter.
- :class:`ResultsFile` appends one CSV row per evaluation, with the command, seed, package version,
  git commit and date on every row, and tells a restarted script which runs are already done.
- :func:`claims_table` builds each chapter's closing table: claim | source | ours (CI) | ours (full).
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

__all__ = ["seed_everything", "get_mode", "budget", "WallTimer", "ResultsFile", "run_metadata", "results_path", "claims_table", "MODES"]

MODES = ("ci", "full")


def seed_everything(seed: int, *envs) -> np.random.Generator:
    """Seed every random number generator the book uses; return a fresh ``numpy`` Generator.

    Seeds Python's ``random``, NumPy's global state, PyTorch (CPU), DGL, and the action and
    observation spaces of any Gymnasium envs passed (environment *dynamics* are seeded by
    ``env.reset(seed=...)``, which PPO and :func:`gnnrl_lite.algos.ppo.evaluate` do).

    Parameters
    ----------
    seed : int
        A non-negative integer.
    *envs : gymnasium.Env or gymnasium.vector.VectorEnv
        Environments whose spaces to seed.

    Examples
    --------
    >>> _ = seed_everything(0); a = torch.rand(1)
    >>> _ = seed_everything(0); b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    import dgl  # local import: dgl is heavy and not needed for the rest of this module

    dgl.seed(seed)
    for env in envs:
        for name in ("action_space", "observation_space", "single_action_space", "single_observation_space"):
            space = getattr(env, name, None)
            if space is not None:
                space.seed(seed)
    return np.random.default_rng(seed)


def get_mode() -> str:
    """Return the run mode from the ``GNNRL_MODE`` environment variable: ``"ci"`` (default) or ``"full"``."""
    mode = os.environ.get("GNNRL_MODE", "ci").strip().lower() or "ci"
    if mode not in MODES:
        raise ValueError(f"GNNRL_MODE must be one of {MODES}; got {os.environ.get('GNNRL_MODE')!r}")
    return mode


def budget(ci, full):
    """Pick the CI-mode or the full-mode value of a budget, e.g. ``budget(ci=3, full=10)`` seeds."""
    return ci if get_mode() == "ci" else full


class WallTimer:
    """Measure a chapter's wall time; ``report()`` prints ``mode: ci | wall time: 12.3 s``.

    Create it in the first cell and call ``report()`` in the last, so the notebook states how long
    it ran and in which mode. ``budget_s`` adds the chapter's budget to the line.
    """

    def __init__(self, budget_s: float | None = None):
        self.start = time.perf_counter()
        self.budget_s = budget_s

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def report(self) -> str:
        line = f"mode: {get_mode()} | wall time: {self.elapsed:.1f} s"
        if self.budget_s is not None:
            line += f" (CI budget {self.budget_s:.0f} s)"
        print(line)
        return line


def _git_commit() -> str:
    """Short hash of HEAD, with ``-dirty`` if tracked files have uncommitted changes ("unknown" outside git)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, cwd=here)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5, cwd=here)
        commit = head.stdout.strip()
        return (commit + ("-dirty" if dirty.stdout.strip() else "")) if commit else "unknown"
    except Exception:  # pragma: no cover - git missing
        return "unknown"


def run_metadata(seed: int, command: str | None = None) -> dict:
    """The provenance recorded on every result row: command, seed, versions, commit and date.

    The command is ``command`` if given, else the ``GNNRL_COMMAND`` environment variable (set by
    ``scripts/run_full.py`` for notebooks run in full mode), else this process's command line.
    The versions of the other packages (MuJoCo, Gymnasium, NumPy, ...) are those pinned in
    ``requirements.txt`` at ``commit``; adding columns here would break appending to the result
    files already written (:meth:`ResultsFile.append` requires the same columns).
    """
    from .. import __version__
    import dgl

    return {
        "command": command or os.environ.get("GNNRL_COMMAND") or " ".join([Path(sys.executable).name] + sys.argv),
        "seed": seed,
        "gnnrl_lite": __version__,
        "torch": torch.__version__,
        "dgl": dgl.__version__,
        "commit": _git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class ResultsFile:
    """Append-only CSV of results, one row per evaluation, safe to resume after an interruption.

    Every row has the same columns (fixed by the first row written). Each attempt at a run writes
    its rows with one ``attempt`` id (see :meth:`new_attempt`) and ends with a row whose ``final``
    is 1. :meth:`done` lists the runs that finished, so a restarted process skips them, and
    :meth:`complete` returns only rows of finished attempts, so a run interrupted half-way is
    redone rather than counted twice.

    Parameters
    ----------
    path : str or Path
        The CSV file; its folder is created if needed.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, row: dict) -> None:
        """Append one row and flush it to disk immediately."""
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists:
            with self.path.open(newline="") as f:
                header = next(csv.reader(f))
            unknown, missing = set(row) - set(header), set(header) - set(row)
            if unknown or missing:
                raise ValueError(f"row columns must match {self.path}'s header {header}: unknown {sorted(unknown)}, missing {sorted(missing)}")
        else:
            header = list(row)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            if not exists:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())

    def read(self):
        """The file as a ``pandas.DataFrame`` (empty if it does not exist)."""
        import pandas as pd

        if not self.path.exists():
            return pd.DataFrame()
        return pd.read_csv(self.path)

    @staticmethod
    def new_attempt() -> str:
        """A fresh id for one attempt at a run (put it in the ``attempt`` column of its rows)."""
        import uuid

        return uuid.uuid4().hex[:12]

    def complete(self):
        """Rows of attempts that wrote a ``final == 1`` row (all rows if there is no ``attempt`` column)."""
        df = self.read()
        if df.empty or "final" not in df or "attempt" not in df:
            return df
        finished = set(df.loc[df["final"] == 1, "attempt"])
        return df[df["attempt"].isin(finished)].reset_index(drop=True)

    def done(self, keys: Sequence[str]) -> set[tuple]:
        """The set of ``keys`` tuples (e.g. ``("run", "seed")``) that have a row with ``final == 1``."""
        df = self.read()
        if df.empty or "final" not in df:
            return set()
        missing = [k for k in keys if k not in df]
        if missing:
            raise KeyError(f"{self.path} has no column(s) {missing}; columns are {list(df.columns)}")
        df = df[df["final"] == 1]
        return {tuple(r) for r in df[list(keys)].itertuples(index=False, name=None)}

    def fetch_or_run(self, key: dict, compute: Callable[[], list[dict]], *, record: bool = True) -> list[dict]:
        """The rows of the run named by ``key``: read back if it finished before, else computed (and recorded).

        ``key`` maps columns to values, e.g. ``{"method": "dqn", "seed": 1}``; ``compute()`` returns
        the run's rows (dicts without the key columns). With ``record=True`` (full mode) a finished
        run is read from :meth:`complete`, and a new one is appended with the key, :func:`run_metadata`,
        a fresh ``attempt`` id and ``final`` = 1 on its last row, so an interrupted script resumes
        where it stopped. With ``record=False`` (CI mode) the run is always computed and nothing is
        written. Returns the rows with the key columns first.
        """
        if not isinstance(key, dict) or not key:
            raise ValueError(f"key must be a non-empty dict of column values; got {key!r}")
        if record:
            df = self.complete()
            if not df.empty and all(k in df for k in key):
                hit = df[np.logical_and.reduce([df[k].astype(str) == str(v) for k, v in key.items()])]
                if not hit.empty:
                    return hit.to_dict("records")
        rows = [{**key, **row} for row in compute()]
        if not rows:
            raise ValueError(f"compute() returned no rows for {key}")
        if record:
            attempt, meta = self.new_attempt(), run_metadata(int(key.get("seed", 0)))
            for j, row in enumerate(rows):
                self.append({**row, **{k: v for k, v in meta.items() if k not in row}, "attempt": attempt, "final": int(j == len(rows) - 1)})
        return rows


def results_path(name: str) -> Path:
    """Path of a committed result file, ``<repository>/results/<name>``.

    Found from the package's location (an editable install inside the repository, as ``make`` and
    the Colab cell set up), falling back to ``./results`` and ``../results``.
    """
    candidates = [Path(__file__).resolve().parents[2] / "results", Path.cwd() / "results", Path.cwd().parent / "results"]
    for folder in candidates:
        if folder.is_dir():
            return folder / name
    return candidates[0] / name


def claims_table(rows: Iterable[Sequence]):
    """Build a chapter's closing table: claim | the source's number | ours (CI mode) | ours (full mode).

    Each row is a 4-sequence of strings (format numbers before passing them). Returns a
    ``pandas.DataFrame``, which Jupyter and the book render as a table with every cell in full
    (pandas would otherwise cut cells at 50 characters, ``display.max_colwidth``).
    """
    import pandas as pd

    class _ClaimsTable(pd.DataFrame):
        @property
        def _constructor(self):
            return _ClaimsTable

        def _repr_html_(self):
            with pd.option_context("display.max_colwidth", None):
                return super()._repr_html_()

        def __repr__(self):
            with pd.option_context("display.max_colwidth", None):
                return super().__repr__()

    rows = [tuple(r) for r in rows]
    for i, r in enumerate(rows):
        if len(r) != 4:
            raise ValueError(f"claims_table row {i} has {len(r)} entries; expected 4 (claim, source, ours CI, ours full)")
    return _ClaimsTable(rows, columns=["claim", "source", "ours (CI mode)", "ours (full mode)"])
