"""A Colab-like runtime: a fresh virtual environment holding Colab's own versions of the packages that
matter (tests/colab-constraints.txt, which says where they come from and where this test differs), then
a notebook's own Colab setup cell, run in a kernel there, installs the course on top, from this checkout
instead of the repository URL. Installing must replace none of Colab's packages; then lecture notebooks
(widgets on, every explore call moved) and an exercise run in that runtime.

Slow (a fresh environment: a few minutes), so it carries the `colab` marker: `make test-runtimes` runs it
and .ci/run calls that after `make test`.
"""
import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

from kernel_helpers import Kernel, errors
from test_notebook_widgets import run_with_widgets
from test_widgets import check_explorer_run, run_explorer_in_kernel

pytestmark = pytest.mark.colab

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "tests" / "colab-constraints.txt"
NOT_PACKAGED = [".git", ".venv", "notebooks", "solutions", "exercises", "benchmarks", "docs", "tests",
                "scripts", ".executed", "__pycache__", "*.egg-info", "build", "dist", ".ci"]


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    lines = [ln.strip() for ln in CONSTRAINTS.read_text().splitlines()]
    return dict((norm(a), b) for a, b in (ln.split("==") for ln in lines if ln and not ln.startswith("#")))


def installed(python: str) -> dict[str, str]:
    out = subprocess.run([python, "-m", "pip", "list", "--format=json"], check=True, capture_output=True,
                         text=True).stdout
    return {norm(p["name"]): p["version"].split("+")[0] for p in json.loads(out)}


def setup_cell(path: Path, source_dir: Path) -> str:
    """The notebook's own setup cell, with the repository URL swapped for this checkout."""
    (cell,) = [c for c in nbformat.read(path, as_version=4).cells if "setup" in c.metadata.get("tags", [])]
    requirement = re.findall(r'"(genai-course(\[apps\])? @ git\+[^"]+)"', cell.source)
    assert len(requirement) == 1, f"{path.name}: no 'genai-course @ git+...' install in its setup cell"
    (whole, extra), = requirement
    return cell.source.replace(whole, f"genai-course{extra} @ {source_dir.as_uri()}")


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """(python of the Colab-like runtime, its packages before the setup cell, after it, the cell's output)."""
    base = tmp_path_factory.mktemp("colab")
    env_dir, source, content = base / "venv", base / "genai-course", base / "content"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "-r", str(CONSTRAINTS)], check=True)
    before = installed(python)
    # What pip would fetch from the repository: the package sources, not the notebooks or the .venv.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_PACKAGED))
    content.mkdir()                                       # Colab's working folder: no course files in it
    with Kernel(python=python, cwd=str(content)) as k:
        msgs = k.execute(setup_cell(ROOT / "notebooks" / "01_what_is_generative_modeling.ipynb", source),
                         timeout=900)
        assert errors(msgs) == [], errors(msgs)
        where = k.execute("import course_lib; print(course_lib.__file__)")
    after = installed(python)
    printed = "".join(m["content"].get("text", "") for m in where if m["msg_type"] == "stream")
    return dict(python=python, before=before, after=after, course_lib=printed.strip(), content=content)


def test_constraints_pin_colabs_packages():
    assert {"torch", "numpy", "matplotlib", "ipywidgets", "ipykernel", "pandas"} <= set(pins())
    assert pins()["ipywidgets"].startswith("7.7.")


def test_the_runtime_has_colabs_versions(colab):
    wrong = {n: (v, colab["before"].get(n)) for n, v in pins().items() if colab["before"].get(n) != v}
    assert not wrong, f"not Colab's versions (wanted, got): {wrong}"
    assert "genai-course" not in colab["before"]


def test_setup_cell_installs_the_course_and_replaces_none_of_colabs_packages(colab):
    assert "genai-course" in colab["after"]
    assert "site-packages" in colab["course_lib"] and str(ROOT) not in colab["course_lib"], colab["course_lib"]
    changed = {n: (colab["before"][n], colab["after"].get(n)) for n in pins()
               if colab["after"].get(n) != colab["before"][n]}
    assert not changed, f"installing the course replaced Colab's packages (before, after): {changed}"


def test_explore_works_with_colabs_ipywidgets(colab):
    r = run_explorer_in_kernel(python=colab["python"])
    assert r["printed"].split()[0] == pins()["ipywidgets"]
    check_explorer_run(r)


@pytest.mark.parametrize("notebook", ["00_welcome.ipynb", "01_what_is_generative_modeling.ipynb"])
def test_lecture_notebook_runs_in_the_colab_runtime(colab, notebook):
    path = ROOT / "notebooks" / notebook
    run_with_widgets(path, python=colab["python"], cwd=str(colab["content"]))


@pytest.mark.parametrize("notebook", ["solutions/01_foundations/01_foundations.ipynb",
                                      "exercises/01_foundations/01_foundations.ipynb"])
def test_exercise_runs_in_the_colab_runtime(colab, notebook):
    """The solution passes its visible and hidden tests there; the student release runs, its stubs
    raising NotImplementedError only in the cells tagged for it."""
    run_with_widgets(ROOT / notebook, python=colab["python"], cwd=str(colab["content"]))


def test_apps_setup_cell_adds_the_field_libraries_and_keeps_colabs_versions(colab):
    """An application notebook's setup cell, run after the course is installed (a student moving on to
    notebook 11): it installs the `apps` extra (then loads the healthcare and finance tables and fits GJR-GARCH with arch) with releases that fit Colab's packages (scikit-survival's
    newest release wants a newer scikit-learn than Colab's) and replaces none of them."""
    from course_lib.badges import APPS_IMPORTS
    source = next(colab["content"].parent.glob("genai-course"))
    with Kernel(python=colab["python"], cwd=str(colab["content"])) as k:
        msgs = k.execute(setup_cell(ROOT / "notebooks" / "10_generative_ai_for_art_music_and_writing.ipynb", source), timeout=900)
        assert errors(msgs) == [], errors(msgs)
        check = k.execute("import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in APPS_IMPORTS)
                          + "from course_lib import data\nprint(len(data.load('flchain', split='train')))\n"
                          + "print(len(data.load('credit')), len(data.load('stock-returns')))\n"
                          + "from course_lib.finance import scenarios\nscenarios.make('gjr').fit(data.load('stock-returns').to_numpy())")
        assert errors(check) == [], errors(check)
    after = installed(colab["python"])
    changed = {n: (v, after.get(n)) for n, v in colab["before"].items() if after.get(n) != v}
    assert not changed, f"installing the apps extra replaced Colab's packages (before, after): {changed}"
