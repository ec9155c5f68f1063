"""A class on JupyterHub with a PostgreSQL gradebook, end to end, as docs/instructor_guide.md tells an
instructor to run it ("Running the course on a JupyterHub"): the test starts its own PostgreSQL server
(Debian's packages) and JupyterHub (with configurable-http-proxy), creates three local student accounts
and the grader account, and follows the guide's steps: the shared exchange, the course folder with
db_url in its nbgrader_config.py, the hub configuration (formgrader as a hub service, the formgrade
group), then release, fetch and submit (through each student's server, as the Assignments tab does),
collect, autograde into PostgreSQL (--jobs 2), two graders saving written-answer grades in formgrader at
the same moment, feedback and the grade export. And the bad input: a submission collected twice, two
graders saving the same cell, PostgreSQL stopping mid-batch. Everything is stopped and the accounts
removed at the end.

Needs root (local accounts, servers spawned as them), PostgreSQL's server binaries, configurable-http-proxy
and jupyterhub with psycopg: `make hub` installs them (`make test-runtimes` calls it). Without them the
test is skipped with a message saying what is missing. Marker `hub`: only in `make test-runtimes`.
While it runs, folders above the course environment that other accounts cannot traverse (root's home,
where pyenv keeps the interpreter) get o+x; their modes are put back at the end.
Two deviations from the guide, both to leave this machine as it was: the guide's
/etc/jupyter/nbgrader_config.py is written to a folder on JUPYTER_CONFIG_PATH instead, and the grader's
course folder holds copies of two assignments and uses this checkout's environment instead of a clone
with its own `make setup`.
"""
from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import grading_helpers

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENTS = ["01_foundations", "02_pytorch"]
COURSE_ID = "genai-course"
SUFFIX = f"{os.getpid() % 100000}"
STUDENTS = [f"hubstu{i}-{SUFFIX}" for i in (1, 2, 3)]
GRADER = f"grader-genai-{SUFFIX}"
TAS = [f"ta-alice-{SUFFIX}", f"ta-bob-{SUFFIX}"]
DB_PASSWORD = "test-only-password"
ADMIN_TOKEN = os.urandom(16).hex()
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _missing() -> list[str]:
    out = []
    if os.geteuid() != 0:
        out.append("root (local accounts and servers spawned as them)")
    if _pg_bin() is None:
        out.append("PostgreSQL's server (apt-get install postgresql)")
    if shutil.which("configurable-http-proxy") is None:
        out.append("configurable-http-proxy (npm install -g configurable-http-proxy)")
    for module, package in (("jupyterhub", "jupyterhub"), ("psycopg", "psycopg[binary]")):
        try:
            __import__(module)
        except ImportError:
            out.append(f"{package} in this environment (pip install -c requirements-lock.txt -e '.[hub]')")
    if shutil.which("useradd") is None:
        out.append("useradd")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, *, user: str | None = None, cwd=None, env=None, check=True, timeout=600) -> subprocess.CompletedProcess:
    """Run a command, as `user` when given (runuser), output captured; failures show the output."""
    full = dict(os.environ, **(env or {}))
    if user is not None:
        home = pwd.getpwnam(user).pw_dir
        full.update(HOME=home, USER=user, LOGNAME=user)
        cmd = [RUNUSER, "-u", user, "--", "env", *[f"{k}={v}" for k, v in full.items()
                                                     if k in ("HOME", "USER", "LOGNAME", "PATH",
                                                              "JUPYTER_CONFIG_PATH", "LANG")], *cmd]
    done = subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


class Postgres:
    """A throw-away PostgreSQL server owned by the `postgres` account, on a free TCP port."""

    def __init__(self, base: Path):
        self.bin, self.data, self.port = _pg_bin(), base / "pg" / "data", free_port()
        self.sockets = base / "pg" / "run"
        self.sockets.mkdir(parents=True)
        shutil.chown(base / "pg", "postgres", "postgres")
        shutil.chown(self.sockets, "postgres", "postgres")
        run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
             "--auth-host=scram-sha-256"], user="postgres")

    def ctl(self, *args):
        return run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", *args], user="postgres")

    def start(self):
        self.ctl("-l", str(self.data.parent / "server.log"), "-o",
                 f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode="fast"):
        self.ctl("-m", mode, "stop")

    def sql(self, statement: str):
        return run([str(self.bin / "psql"), "-h", str(self.sockets), "-p", str(self.port), "-U", "postgres",
                    "-v", "ON_ERROR_STOP=1", "-c", statement], user="postgres")

    def url(self, user="genai_grader", db="genai_course") -> str:
        return f"postgresql://{user}:{DB_PASSWORD}@127.0.0.1:{self.port}/{db}"


def _wait(predicate, what: str, seconds: float = 120, every: float = 0.5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


def _open_path_for_accounts(paths) -> dict[Path, int]:
    """Let other accounts traverse (o+x, not read) every folder above `paths` that stops them: the course
    environment's interpreter may live in root's home (pyenv). Returns the modes to put back."""
    changed = {}
    for path in paths:
        for folder in Path(path).resolve().parents:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                changed.setdefault(folder, mode & 0o7777)
                folder.chmod((mode & 0o7777) | 0o001)
    return changed


@pytest.fixture(scope="module")
def hub():
    missing = _missing()
    if missing:
        pytest.skip("the JupyterHub class test needs " + "; ".join(missing) + " (make hub installs them)")
    import requests
    base = Path(tempfile.mkdtemp(prefix="genai-hub-"))
    base.chmod(0o755)  # student and grader accounts walk through it to their homes
    made, procs = [], []
    pg = None
    reopened = {}
    try:
        reopened = _open_path_for_accounts([Path(sys.executable).resolve(), ROOT])
        for name in [*STUDENTS, GRADER]:
            run(["useradd", "--create-home", "--home-dir", str(base / "home" / name), "--shell", "/bin/bash", name])
            made.append(name)
        (base / "home").chmod(0o755)

        # PostgreSQL and the course database (guide: createdb genai_course; nbgrader makes its tables)
        pg = Postgres(base)
        pg.start()
        pg.sql(f"CREATE ROLE genai_grader LOGIN PASSWORD '{DB_PASSWORD}'")
        pg.sql("CREATE DATABASE genai_course OWNER genai_grader")

        # Guide step 1: everyone's nbgrader_config.py with the course id and the shared exchange
        etc = base / "etc-jupyter"
        etc.mkdir()
        exchange = base / "srv" / "nbgrader" / "exchange"
        exchange.mkdir(parents=True)
        exchange.chmod(0o777)
        (etc / "nbgrader_config.py").write_text(
            f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\nc.Exchange.root = "{exchange}"\n')
        for p in [etc, etc / "nbgrader_config.py", base / "srv", base / "srv" / "nbgrader"]:
            p.chmod(0o755 if p.is_dir() else 0o644)

        # Guide step 2: the grader's course folder, db_url in its nbgrader_config.py
        course = base / "home" / GRADER / "genai-course"
        course.mkdir()
        for name in ASSIGNMENTS:
            shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        config = (ROOT / "nbgrader_config.py").read_text()
        (course / "nbgrader_config.py").write_text(config + f'\nc.CourseDirectory.db_url = "{pg.url()}"\n')
        run(["chown", "-R", f"{GRADER}:{GRADER}", str(course)])

        # Guide step 3: the hub
        port, svc_port = free_port(), free_port()
        hubdir = base / "hub"
        hubdir.mkdir()
        guide_hub_config = _guide_block("c.JupyterHub.load_groups")
        hub_config = (guide_hub_config
                      .replace('"ta-alice", "ta-bob", "you"', ", ".join(f'"{t}"' for t in TAS))
                      .replace('"user": "grader-genai"', f'"user": "{GRADER}"')
                      .replace('"/home/grader-genai/genai-course"', f'"{course}"')
                      .replace('"http://127.0.0.1:9999"', f'"http://127.0.0.1:{svc_port}"')
                      .replace("/opt/genai-course/.venv/bin/", f"{BIN}/")
                      .replace('"environment": {', '"environment": {"PATH": "%s:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": "%s", '
                               % (BIN, etc)))
        assert hub_config != guide_hub_config, "the guide's hub configuration changed: update this test"
        (hubdir / "jupyterhub_config.py").write_text(f"""c = get_config()
{hub_config}
# test plumbing: ports, state in a temporary folder, a service token to drive the REST API
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.JupyterHub.db_url = "sqlite:///{hubdir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{hubdir}/cookie_secret"
c.ConfigurableHTTPProxy.pid_file = "{hubdir}/proxy.pid"
c.Authenticator.allowed_users = set({STUDENTS + [GRADER] + TAS!r})
c.Spawner.cmd = ["{BIN / 'jupyterhub-singleuser'}"]
c.Spawner.environment = {{"PATH": "{BIN}:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": "{etc}"}}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services.append({{"name": "test-driver", "api_token": "{ADMIN_TOKEN}"}})
c.JupyterHub.load_roles.append({{"name": "test-driver", "services": ["test-driver"],
    "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users"]}})
""")
        log = open(hubdir / "hub.log", "w")
        proc = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(hubdir / "jupyterhub_config.py")],
                                cwd=hubdir, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}"))
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        api = requests.Session()
        api.headers["Authorization"] = f"token {ADMIN_TOKEN}"

        def up():
            if proc.poll() is not None:
                raise AssertionError("jupyterhub exited:\n" + (hubdir / "hub.log").read_text()[-4000:])
            try:
                return api.get(f"{url}/hub/api/", timeout=5).ok
            except requests.ConnectionError:
                return False

        _wait(up, "JupyterHub", 120)
        yield {"base": base, "url": url, "api": api, "course": course, "pg": pg, "hubdir": hubdir,
               "exchange": exchange, "etc": etc, "requests": requests}
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if pg is not None:
            try:
                pg.stop("immediate")
            except AssertionError:
                pass  # already stopped (a failed test left it so)
        for name in made:
            subprocess.run(["pkill", "-u", name], capture_output=True)  # servers spawned as the account
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        for folder, mode in reopened.items():
            folder.chmod(mode)


def _guide_block(marker: str) -> str:
    """The guide's fenced code block that contains `marker` (the test runs what the guide says)."""
    text = (ROOT / "docs" / "instructor_guide.md").read_text()
    for block in text.split("```")[1::2]:
        if marker in block:
            return block.split("\n", 1)[1]
    raise AssertionError(f"no code block with {marker!r} in docs/instructor_guide.md")


def grader_run(hub, *args, check=True):
    return run(list(args), user=GRADER, cwd=hub["course"], check=check,
               env={"PATH": f"{BIN}:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": str(hub["etc"])})


def user_token(hub, name: str) -> str:
    r = hub["api"].post(f"{hub['url']}/hub/api/users/{name}/tokens", json={"note": "test", "expires_in": 3600},
                        timeout=30)
    assert r.ok, r.text
    return r.json()["token"]


def start_server(hub, name: str):
    r = hub["api"].post(f"{hub['url']}/hub/api/users/{name}/server", timeout=60)
    assert r.status_code in (201, 202, 400), r.text  # 400: already running

    def ready():
        info = hub["api"].get(f"{hub['url']}/hub/api/users/{name}", timeout=30).json()
        return info.get("servers", {}).get("", {}).get("ready")

    _wait(ready, f"{name}'s server", 120)


def _solved(name: str, how: str):
    source = next((ROOT / "solutions" / name).glob("*.ipynb"))
    release = nbformat.read(ROOT / "exercises" / name / source.name, as_version=4)
    if how == "blank":
        return source.name, release
    nb = grading_helpers.solved(release, nbformat.read(source, as_version=4))
    return source.name, nb


SUBMISSIONS = {STUDENTS[0]: "solved", STUDENTS[1]: "blank", STUDENTS[2]: "solved"}


@pytest.fixture(scope="module")
def semester(hub):
    """Guide step 4 up to the autograde: assign, release, fetch, submit (through the students' servers),
    collect; returns what later tests check."""
    requests, url = hub["requests"], hub["url"]
    t0 = time.monotonic()
    for name in ASSIGNMENTS:
        grader_run(hub, "genai-course", "assign", name)
        grader_run(hub, "nbgrader", "release_assignment", name)
    tokens = {}

    def student(name):
        start_server(hub, name)
        tokens[name] = tok = user_token(hub, name)
        s = requests.Session()
        s.headers["Authorization"] = f"token {tok}"
        home = Path(pwd.getpwnam(name).pw_dir)
        for assignment in ASSIGNMENTS:
            r = s.post(f"{url}/user/{name}/assignments/fetch",
                       params={"course_id": COURSE_ID, "assignment_id": assignment}, timeout=120)
            assert r.ok, (name, r.status_code, r.text[:2000])
            nb_name, nb = _solved(assignment, SUBMISSIONS[name])
            target = home / assignment / nb_name
            assert target.is_file(), f"fetch did not write {target}"
            nbformat.write(nb, target)
            shutil.chown(target, name, name)
            r = s.post(f"{url}/user/{name}/assignments/submit",
                       params={"course_id": COURSE_ID, "assignment_id": assignment}, timeout=120)
            assert r.ok and r.json().get("success") is True, (name, r.text[:2000])
        return name

    with concurrent.futures.ThreadPoolExecutor(3) as pool:  # the three students at once, as in a class
        list(pool.map(student, STUDENTS))
    collected = {name: grader_run(hub, "nbgrader", "collect", name) for name in ASSIGNMENTS}
    return {"tokens": tokens, "collected": collected, "seconds_to_collect": time.monotonic() - t0}


def test_release_fetch_submit_collect(hub, semester):
    for name in ASSIGNMENTS:
        for student in STUDENTS:
            folder = hub["course"] / "submitted" / student / name
            assert (folder / "timestamp.txt").is_file(), f"{student}'s {name} was not collected"
            assert list(folder.glob("*.ipynb"))


def test_a_submission_collected_twice(hub, semester):
    """Collecting again changes nothing and says why; a resubmission replaces the collected copy only with
    --update (nbgrader's rule; the guide says so)."""
    name = ASSIGNMENTS[0]
    folder = hub["course"] / "submitted" / STUDENTS[0] / name
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    again = grader_run(hub, "nbgrader", "collect", name)
    assert "already exists" in (again.stdout + again.stderr).lower() or "skipping" in (again.stdout + again.stderr).lower(), again.stderr[-2000:]
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def _autograde(hub, name, *extra, check=True):
    return grader_run(hub, "genai-course", "autograde", name, "--jobs", "2", "--timeout", "30", *extra, check=check)


def test_autograde_into_postgresql(hub, semester):
    for name in ASSIGNMENTS:
        done = _autograde(hub, name)
        assert "3 submission(s) graded" in done.stdout, done.stdout
    rows = _grades(hub)
    assert len(rows) == len(ASSIGNMENTS) * len(STUDENTS)
    for row in rows:
        if SUBMISSIONS[row["student"]] == "solved":
            assert float(row["code_score"]) == float(row["max_code_score"]) > 0, row
        else:
            assert float(row["code_score"]) == 0, row
    # the gradebook is the PostgreSQL database, not a SQLite file in the course folder
    assert not (hub["course"] / "gradebook.db").exists()
    import sqlalchemy
    engine = sqlalchemy.create_engine(hub["pg"].url())
    with engine.connect() as con:
        n = con.execute(sqlalchemy.text("SELECT count(*) FROM submitted_assignment")).scalar()
    engine.dispose()
    assert n == len(ASSIGNMENTS) * len(STUDENTS)


def _grades(hub) -> list[dict]:
    out = hub["course"] / "grades.csv"
    grader_run(hub, "genai-course", "grades", "--csv", str(out))
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def _written_grades(hub) -> list[tuple[str, str, float]]:
    """(grade row id, student, max_score) of every written answer in the gradebook."""
    import sqlalchemy
    engine = sqlalchemy.create_engine(hub["pg"].url())
    with engine.connect() as con:
        rows = con.execute(sqlalchemy.text(
            "SELECT g.id, s.student_id, c.max_score FROM grade g JOIN grade_cells c ON g.cell_id = c.id "
            "JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment s "
            "ON n.assignment_id = s.id WHERE c.cell_type = 'markdown' ORDER BY s.student_id, g.id")).fetchall()
    engine.dispose()
    return [(r[0], r[1], float(r[2])) for r in rows]


def _formgrader(hub, ta: str):
    s = hub["requests"].Session()
    s.headers["Authorization"] = f"token {user_token(hub, ta)}"
    return s


def test_two_graders_grade_at_once_in_formgrader(hub, semester):
    grades = _written_grades(hub)
    assert grades, "no written answers in the gradebook"
    sessions = [_formgrader(hub, ta) for ta in TAS]
    api = f"{hub['url']}/services/{COURSE_ID}/formgrader/api/grade"

    def save(args):
        session, grade_id, score = args
        r = session.put(f"{api}/{grade_id}", json={"manual_score": score, "extra_credit": 0}, timeout=60)
        assert r.ok, (r.status_code, r.text[:2000])
        return r.json()

    # the two graders split the answers and save at the same moments
    jobs = [(sessions[i % 2], gid, min(1.0, top)) for i, (gid, _, top) in enumerate(grades)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        saved = list(pool.map(save, jobs))
    assert all(s["needs_manual_grade"] is False for s in saved)
    again = {gid: s for gid, s in zip([g for g, _, _ in grades], saved)}
    check = sessions[0]
    for gid, _, top in grades:
        assert check.get(f"{api}/{gid}", timeout=30).json()["manual_score"] == min(1.0, top)
    # bad input: both save the same cell at once; the last save stands, nothing else changes
    target = grades[0][0]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(save, [(sessions[0], target, 0.0), (sessions[1], target, 0.5)]))
    final = check.get(f"{api}/{target}", timeout=30).json()["manual_score"]
    assert final in (0.0, 0.5)
    for gid, _, top in grades[1:]:
        assert check.get(f"{api}/{gid}", timeout=30).json()["manual_score"] == min(1.0, top), again[gid]


def test_postgresql_stopping_mid_batch(hub, semester):
    """The database goes away while a batch grades: a clear message naming who is graded and who is not,
    the grades already saved stay, and the same command run again finishes the batch."""
    name = ASSIGNMENTS[1]
    before = {r["student"]: r for r in _grades(hub) if r["assignment"] == name}
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": str(hub["etc"])}
    home = pwd.getpwnam(GRADER).pw_dir
    cmd = [RUNUSER, "-u", GRADER, "--", "env", f"HOME={home}", f"PATH={env['PATH']}",
           f"JUPYTER_CONFIG_PATH={env['JUPYTER_CONFIG_PATH']}", "genai-course", "autograde", name, "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=hub["course"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker = hub["course"] / "autograded" / STUDENTS[0] / name
    stamp = marker.stat().st_mtime if marker.exists() else 0

    def first_done():  # the first student's notebook rewritten: it is graded, the others wait
        return marker.exists() and marker.stat().st_mtime > stamp and any(
            p.stat().st_mtime > stamp for p in marker.glob("*.ipynb"))

    _wait(first_done, "the first submission of the batch", 180, 0.2)
    hub["pg"].stop("immediate")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, (proc.returncode, out[-2000:], err[-3000:])
    assert "stopped answering" in err and "run the same command" in err, err[-3000:]
    hub["pg"].start()
    done = _autograde(hub, name)
    assert "3 submission(s) graded" in done.stdout, done.stdout
    after = {r["student"]: r for r in _grades(hub) if r["assignment"] == name}
    assert {s: r["code_score"] for s, r in after.items()} == {s: r["code_score"] for s, r in before.items()}


def test_feedback_and_export(hub, semester):
    for name in ASSIGNMENTS:
        grader_run(hub, "genai-course", "feedback", name)
        grader_run(hub, "nbgrader", "release_feedback", name)
    rows = _grades(hub)
    assert {(r["assignment"], r["student"]) for r in rows} == {(a, s) for a in ASSIGNMENTS for s in STUDENTS}
    feedback = list((hub["exchange"] / COURSE_ID / "feedback").glob("*.html"))
    assert len(feedback) == len(ASSIGNMENTS) * len(STUDENTS)
    print(json.dumps({"seconds_to_collect": round(semester["seconds_to_collect"], 1)}))
