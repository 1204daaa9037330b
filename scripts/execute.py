"""Execute chapter notebooks top to bottom in CI mode and store fresh outputs for the book.

    python scripts/execute.py chapters/01_preliminaries.ipynb [more notebooks]

Runs each notebook in a fresh kernel (execution counts in order), then tidies progress bars:
consecutive stream outputs are merged and carriage-return updates collapsed to their last state,
so the rendered page shows one final line per bar instead of every refresh.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def collapse_carriage_returns(text: str) -> str:
    """Keep, for every line, only what follows its last carriage return (what a terminal shows)."""
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
                     for line in text.split("\n"))


def tidy_streams(nb) -> None:
    """Merge consecutive stream outputs of the same name and collapse progress-bar refreshes."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if out.output_type == "stream" and merged and merged[-1].output_type == "stream" and merged[-1].name == out.name:
                merged[-1].text += out.text
            else:
                merged.append(out)
        for out in merged:
            if out.output_type == "stream":
                out.text = collapse_carriage_returns(out.text)
        cell.outputs = merged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    os.environ.setdefault("GNNRL_MODE", "ci")
    for var, value in {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "DGLBACKEND": "pytorch", "PYTHONHASHSEED": "0"}.items():
        os.environ.setdefault(var, value)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": str(path.resolve().parent)}}).execute()
        tidy_streams(nb)
        nbformat.write(nb, path)
        print(f"{path}: executed in {time.perf_counter() - start:.0f} s ({os.environ['GNNRL_MODE']} mode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
