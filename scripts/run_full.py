"""Run a chapter notebook in full mode and let it append its results to results/*.csv.

    python scripts/run_full.py chapters/01_preliminaries.ipynb [--timeout 36000]

The notebook itself holds the experiments; in full mode (GNNRL_MODE=full) it uses the full budgets,
skips runs already recorded as finished in its result files (so an interrupted run resumes), and
appends one CSV row per evaluation with this exact command, the seed, versions, commit and date.
The executed copy is written next to the results as results/<chapter>.full.ipynb (not committed).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path, help="chapter notebook, e.g. chapters/01_preliminaries.ipynb")
    parser.add_argument("--timeout", type=int, default=36_000, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    path = args.notebook.resolve()
    if not path.is_file() or path.suffix != ".ipynb":
        parser.error(f"not a notebook: {args.notebook}")
    os.environ["GNNRL_MODE"] = "full"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("DGLBACKEND", "pytorch")
    os.environ["GNNRL_COMMAND"] = "GNNRL_MODE=full python scripts/run_full.py " + shlex.quote(str(path.relative_to(ROOT)))
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    out = ROOT / "results" / (path.stem + ".full.ipynb")
    out.parent.mkdir(exist_ok=True)
    nbformat.write(nb, out)
    print(f"{path.name}: full mode finished in {time.perf_counter() - start:.0f} s; executed copy in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
