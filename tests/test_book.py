"""The book's conventions, checked on every chapter notebook and on the configuration files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


def test_there_are_chapters():
    """At least Chapter 1 exists, named NN_name.ipynb."""
    assert CHAPTERS and CHAPTERS[0].name == "01_preliminaries.ipynb", "chapters/01_preliminaries.ipynb must exist"


def test_toc_lists_every_chapter_and_only_existing_files():
    """Every chapter notebook is in _toc.yml, and every _toc.yml entry exists."""
    listed = _toc_files(TOC)
    for nb in CHAPTERS:
        assert f"chapters/{nb.stem}" in listed, f"{nb.name} is missing from _toc.yml"
    for entry in listed + [TOC["root"]]:
        assert any((ROOT / (entry + ext)).exists() for ext in (".md", ".ipynb", "")), f"_toc.yml lists {entry}, which does not exist"


def test_colab_launch_buttons_are_configured():
    """Colab launch buttons need the repository URL and the Colab URL in _config.yml."""
    assert CONFIG["repository"]["url"].startswith("https://github.com/"), "repository.url must be a GitHub URL"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["execute"]["execute_notebooks"] == "off", "the book renders stored outputs"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_first_cell_is_the_colab_setup(nb):
    """The first cell installs from this repository on Colab only (it is guarded by google.colab)."""
    first = _cells(nb)[0]
    src = _source(first)
    assert first["cell_type"] == "code", "the first cell must be the Colab set-up code cell"
    assert '"google.colab" in sys.modules' in src, "the Colab cell must do nothing outside Colab"
    assert CONFIG["repository"]["url"] in src, "the Colab cell must clone repository.url from _config.yml"
    assert "requirements.txt" in src, "the Colab cell must install the pinned stack"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_notebook_has_fresh_outputs_in_order(nb):
    """Stored outputs exist, and execution counts run 1, 2, 3, ... (restarted and run top to bottom)."""
    code = [c for c in _cells(nb) if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), f"execution counts {counts} are not 1..{len(code)}: re-run scripts/execute.py"
    assert any(c.get("outputs") for c in code), "no stored outputs: the book renders stored outputs"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, "a stored output is an error"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_notebook_structure(nb):
    """Each chapter asserts results, checks some outputs, prints its wall time, and ends with summary, exercises and claims."""
    cells = _cells(nb)
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"^\s*assert ", code, re.M), "no assert: each chapter asserts its key results"
    assert "NBVAL_CHECK_OUTPUT" in code, "no checked output cell"
    assert "seed_everything(" in code, "the chapter must seed everything"
    assert ".report()" in _source([c for c in cells if c["cell_type"] == "code"][-1]), "the last cell must report mode and wall time"
    for heading in ("## Summary", "## Exercises", "## Claims"):
        assert heading in text, f"missing section {heading!r}"
    assert ":class: dropdown" in text, "exercise solutions go in dropdowns"
    assert "claims_table(" in code, "the claims table must be computed"


def test_every_cited_key_is_in_the_bibliography():
    """Every {cite} key used in a notebook or page exists in book/references.bib."""
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    sources = [p.read_text() for p in CHAPTERS + sorted((ROOT / "book").glob("*.md"))]
    cited = {k.strip() for s in sources for group in re.findall(r"\{cite:?\w*\}`([^`]+)`", s) for k in group.split(",")}
    assert cited, "no citations found"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_pins_live_in_one_place():
    """requirements.txt pins every package exactly; pyproject.toml and environment.yml carry no versions."""
    reqs = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    reqs = [r for r in reqs if r]
    assert all("==" in r for r in reqs), f"unpinned requirement(s): {[r for r in reqs if '==' not in r]}"
    for name in ("torch==2.2.1", "dgl==2.1.0", "torchdata==0.7.1", "gymnasium==1.4.0"):
        assert name in reqs, f"{name} must be pinned"
    deps = re.search(r"dependencies = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.S).group(1)
    assert not re.search(r"[<>=]", deps), "pyproject.toml dependencies must be names only (pins live in requirements.txt)"
    env = (ROOT / "environment.yml").read_text()
    assert "-r requirements.txt" in env and "==" not in env, "environment.yml must refer to requirements.txt"
