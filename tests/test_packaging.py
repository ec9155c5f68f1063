"""The three ways to install the course agree: pyproject.toml (loose), requirements-lock.txt (pinned for
make and CI), environment.yml (conda). A dependency added to one and forgotten in another fails here."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def _wanted():
    """What `make` installs: the student's kit, the dev extra and the application notebooks' extra."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    return PYPROJECT["project"]["dependencies"] + extras["dev"] + extras["apps"]


def test_pyproject_ranges_stay_loose():
    for req in PYPROJECT["project"]["dependencies"]:
        assert "==" not in req, f"{req}: pin exact versions in requirements-lock.txt, not pyproject.toml"
    torch = next(r for r in PYPROJECT["project"]["dependencies"] if _name(r) == "torch")
    assert "<" not in torch, "an upper bound on torch would make pip replace Colab's preinstalled torch"


def test_lock_pins_every_dependency_and_a_cpu_torch():
    pins = _lock()
    wanted = _wanted()
    missing = [_name(r) for r in wanted if _name(r) not in pins]
    assert not missing, f"requirements-lock.txt lacks {missing}; run `make lock`"
    assert pins["torch"] == "2.13.0", "CI installs the CPU build of torch 2.13.0 from local disk"


def test_environment_yml_lists_every_dependency():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "genai-course" and "conda-forge" in env["channels"]
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = conda | {_name(p) for p in pip if not p.startswith("-")}
    assert "-e ." in pip, "the conda environment must install course_lib itself"
    wanted = _wanted()
    missing = [_name(r) for r in wanted if _name(r) not in listed]
    assert not missing, f"environment.yml lacks {missing}"


def test_make_lab_opens_an_existing_notebook():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"jupyter lab (\S+\.ipynb)", makefile).group(1)
    assert (ROOT / target).is_file(), f"`make lab` opens {target}, which does not exist"


def test_nbformat_imports_without_the_slow_iri_checker():
    """jsonschema >= 4.25 imports rfc3987-syntax, which compiles ~35 Lark parsers (1.2 s here) in every
    process that imports nbformat: each `genai-course` verb, nbgrader worker and nbclient run. The lock keeps
    jsonschema below 4.25; a `make lock` that lets it rise fails here."""
    import subprocess
    import sys
    code = "import sys, nbformat; print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]", f"importing nbformat loaded {loaded.strip()}: pin jsonschema<4.25 in the lock"
    major, minor = map(int, _lock()["jsonschema"].split(".")[:2])
    assert (major, minor) < (4, 25), f"requirements-lock.txt pins jsonschema {_lock()['jsonschema']}"
