"""The autograder's sandbox: a student's kernel sees its own submission and nothing else of the course.

Two layers, both set up by course_lib.gradebook for every graded kernel:

1. **bubblewrap** (`bwrap`, Debian's `bubblewrap` package), when it can run (it needs user or mount
   namespaces). The kernel starts in an empty root file system that holds, read-only, only the system
   folders (/usr, /etc), this Python and its packages, and course_lib; its working folder is a small
   RAM disk holding a read-only copy of the submission's files; /tmp is another small RAM disk. So
   solutions/, the gradebook, other students' folders and the instructor's home do not exist for it;
   it has no network (its own empty network namespace: the grader talks to it over Unix sockets); its
   processes live in their own PID namespace and all die with the kernel; it holds no capabilities.
2. **An audit hook** (`sys.addaudithook`, installed before the first cell runs; Python cannot remove
   one) that logs every attempt to open, list, write or delete a path outside the submission, its
   scratch space and the code it runs on, to open a gradebook, to start a process or to open a socket,
   and refuses it with PermissionError. Under bubblewrap it is the logbook; where bubblewrap cannot run
   it is the only wall, weaker (C code, e.g. ctypes, can go around it), and grading says so loudly.

Both layers leave the grade alone: an escaping cell fails like any cell that raises, and the
student's answers are graded as usual. Attempts go to a log the grader reads back per student.

    python -m course_lib.sandbox -- python -m ipykernel_launcher -f CONNECTION_FILE   # what the kernelspec runs
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

KERNEL_NAME = "genai-course-sandbox"
SCRATCH_MB = 256  # each RAM disk (working folder, /tmp): a cell that fills it gets "No space left on device"
FILE_MB = 256  # largest file a kernel may write (RLIMIT_FSIZE), in either mode
ENV_MODE, ENV_LOG, ENV_DENY = "COURSE_SANDBOX", "COURSE_SANDBOX_LOG", "COURSE_SANDBOX_DENY"
SYSTEM_RO = ("/usr", "/etc", "/opt/conda")  # read-only system folders bound when present
PASS_ENV = ("PATH", "LANG", "LC_ALL", "COURSE_FAST", "OMP_NUM_THREADS", "MPLBACKEND", "PYTHONHASHSEED",
            ENV_MODE, ENV_LOG, ENV_DENY)


# ----------------------------------------------------------------------------------------- can it run
@functools.lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """None when bubblewrap runs here; otherwise why not, in words an instructor can act on."""
    exe = shutil.which("bwrap")
    if exe is None:
        return ("bubblewrap is not installed (Debian/Ubuntu: sudo apt-get install bubblewrap; "
                "Fedora: sudo dnf install bubblewrap)")
    try:
        done = subprocess.run([exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap failed to start: {err}"
    if done.returncode != 0:
        return ("bubblewrap cannot create namespaces here (" + (done.stderr.strip() or f"exit {done.returncode}")
                + "); allow unprivileged user namespaces, e.g. sysctl kernel.unprivileged_userns_clone=1")
    return None


def choose(mode: str = "auto") -> tuple[str, str | None]:
    """("bwrap" or "audit", a warning or None) for the requested mode: auto, bwrap or audit."""
    if mode not in ("auto", "bwrap", "audit"):
        raise ValueError(f"sandbox must be 'auto', 'bwrap' or 'audit', got {mode!r}")
    if mode == "audit":
        return "audit", "sandbox: audit hook only (asked for): student code runs with your user's rights"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap", None
    if mode == "bwrap":
        raise RuntimeError(f"sandbox 'bwrap' asked for, but {problem}")
    return "audit", (f"SANDBOX WEAKENED: {problem}. Student code runs with only an audit hook between it and "
                     "your files (C code can go around it). Install bubblewrap before grading a real class.")


# ---------------------------------------------------------------------------------------- kernelspec
def code_paths() -> list[str]:
    """Folders the kernel's Python needs to read: the interpreter, its packages, course_lib."""
    import importlib.util
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.update(p for p in sys.path if p and os.path.isabs(p) and os.path.exists(p))
    spec = importlib.util.find_spec("course_lib")
    paths.update(spec.submodule_search_locations or [])
    real = {os.path.realpath(p) for p in paths} | paths
    # drop folders already inside another one (binding both would hide nothing, but the list gets long)
    keep = sorted(real)
    return [p for p in keep if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in keep)]


def write_kernelspec(folder: Path, env: dict[str, str] | None = None) -> Path:
    """folder/kernels/genai-course-sandbox/kernel.json: ipykernel started through this module.

    Put `folder` first on JUPYTER_PATH and ask for the kernel by KERNEL_NAME. `env` is added to the
    kernel's environment: the mode, the log, the folder to deny (ENV_*) and scratch folders.
    """
    spec_dir = Path(folder) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "course_lib.sandbox", "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "genai-course (sandboxed grading)", "language": "python",
            "metadata": {"debugger": False}, "env": dict(env or {})}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return spec_dir


# ------------------------------------------------------------------------------------------ launcher
def bwrap_command(kernel_argv: list[str], cwd: str, connection_file: str) -> list[str]:
    """The bubblewrap command line that runs `kernel_argv` in the sandbox described above.

    The kernel reaches its grader through the Unix sockets named in its connection file (the grader
    sets transport "ipc" and puts them in a folder of their own): only that folder, the connection file
    and the attempt log are shared with the outside.
    """
    info = json.loads(Path(connection_file).read_text())
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--clearenv"]
    if info.get("transport") != "ipc":
        cmd += ["--share-net"]  # TCP to the grader needs the host's loopback
    for path in SYSTEM_RO:
        if os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for link in ("bin", "sbin", "lib", "lib64", "lib32"):  # merged-/usr systems: /lib -> usr/lib
        target = f"/{link}"
        if os.path.islink(target):
            cmd += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            cmd += ["--ro-bind", target, target]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(SCRATCH_MB * 2**20), "--tmpfs", "/tmp"]
    for path in code_paths():
        if path != cwd:
            cmd += ["--ro-bind", path, path]
    # the working folder: a RAM disk with a read-only copy of the submission's files
    cmd += ["--size", str(SCRATCH_MB * 2**20), "--tmpfs", cwd]
    for entry in sorted(os.listdir(cwd)):
        cmd += ["--ro-bind", os.path.join(cwd, entry), os.path.join(cwd, entry)]
    cmd += ["--ro-bind", connection_file, connection_file]
    if info.get("transport") == "ipc":
        sockets = os.path.dirname(os.path.abspath(info["ip"]))
        cmd += ["--bind", sockets, sockets]
    log = os.environ.get(ENV_LOG)
    if log:
        Path(log).touch()
        cmd += ["--bind", log, log]
    cmd += ["--chdir", cwd]
    env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
    env.update(HOME="/tmp", TMPDIR="/tmp", IPYTHONDIR="/tmp/.ipython", MPLCONFIGDIR="/tmp/.matplotlib",
               JUPYTER_RUNTIME_DIR="/tmp/.jupyter", COURSE_DATA_DIR="/tmp/course-data",
               PYTHONDONTWRITEBYTECODE="1",
               JPY_PARENT_PID="1")  # ipykernel: started by a client (no "--existing" banner), no parent polling
    for key, value in sorted(env.items()):
        cmd += ["--setenv", key, value]
    return cmd + ["--"] + kernel_argv


def main(argv: list[str] | None = None) -> int:
    """Start the kernel command after `--` in the mode named by $COURSE_SANDBOX (set by the grader)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("usage: python -m course_lib.sandbox -- KERNEL COMMAND ... -f CONNECTION_FILE", file=sys.stderr)
        return 2
    kernel_argv = argv[argv.index("--") + 1:]
    if os.environ.get(ENV_MODE, "bwrap") == "bwrap":
        connection = os.path.abspath(kernel_argv[kernel_argv.index("-f") + 1])
        cmd = bwrap_command(kernel_argv, os.getcwd(), connection)
        # The grader interrupts a cell with SIGINT to the whole process group: bwrap itself must ignore it
        # (it would die, and the kernel with it); ipykernel sets its own handler, so the cell still stops.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.execvp(cmd[0], cmd)  # bwrap takes this process's place: the grader's kill reaches it
    os.execv(kernel_argv[0], kernel_argv)
    return 1  # not reached


# --------------------------------------------------------------------------- inside the kernel: the hook
class Guard:
    """The audit hook: refuses, and logs, what a graded kernel has no business doing.

    `home`: the submission's folder, and `code` (the Python it runs on, course_lib), readable even inside
    `deny`: folders refused where another rule would allow them (the course folder around `home`);
    `read`: other folders it may read (the system); `write`: scratch space, which it may also read.
    Any other path is outside. Processes are refused only in audit-only
    mode (under bubblewrap they die with the kernel); sockets always (a kernel talks through ZeroMQ's C
    code, which raises no audit event).
    """

    LIST = {"os.listdir", "os.scandir", "glob.glob"}
    ONE_PATH = {"open", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
                "os.utime", "shutil.rmtree", "sqlite3.connect"} | LIST
    TWO_PATHS = {"os.rename": "ww", "shutil.move": "ww", "shutil.copyfile": "rw", "os.symlink": "rw",
                 "os.link": "rw"}  # what each path needs: r(ead) or w(rite)
    SPAWN = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
             "os.forkpty", "pty.spawn"}
    NET = {"socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo"}
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def __init__(self, read, write, log_path: str | None, block_spawn: bool, deny=(), home: str = ".", code=()):
        self.read = [os.path.realpath(p) for p in read]
        self.code = [os.path.realpath(p) for p in code]
        self.write = [os.path.realpath(p) for p in write]
        self.deny, self.home = [os.path.realpath(p) for p in deny], os.path.realpath(home)
        self.block_spawn = block_spawn
        self.log = open(log_path, "a", buffering=1) if log_path else None

    @staticmethod
    def _inside(path: str, roots) -> bool:
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def refuse(self, what: str):
        if self.log is not None:
            self.log.write(what + "\n")
        raise PermissionError(f"the grading sandbox refused: {what}")

    def _needs(self, event: str, args) -> list[tuple[object, str]]:
        """(path, "r" or "w") pairs that the event touches."""
        if event in self.TWO_PATHS:
            return list(zip(args[:2], self.TWO_PATHS[event]))
        if event == "open":
            mode, flags = args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and bool(flags & self.WRITE_FLAGS))
            return [(args[0], "w" if writing else "r")]
        return [(args[0], "r" if event in self.LIST else "w")]

    def __call__(self, event: str, args) -> None:
        if event in self.ONE_PATH or event in self.TWO_PATHS:
            for raw, need in self._needs(event, args):
                if not isinstance(raw, (str, bytes, os.PathLike)):
                    continue  # a file descriptor
                path = os.fsdecode(raw)
                if event == "sqlite3.connect" and path.startswith("file:"):
                    path = path[len("file:"):].split("?")[0]  # a URI names the same file
                if path in ("", ":memory:"):
                    continue
                real = os.path.realpath(path)
                allowed = self._inside(real, [self.home]) or (need == "r" and self._inside(real, self.code)) or (
                    not self._inside(real, self.deny) and (
                        self._inside(real, self.write) or (need == "r" and self._inside(real, self.read))))
                if not allowed:
                    self.refuse(f"{event}: {'write' if need == 'w' else 'read'} {real}")
        elif event in self.SPAWN and self.block_spawn:
            self.refuse(f"{event}: {str(args[:2])[:200]}")
        elif event in self.NET:
            self.refuse(f"{event}: {str(args[1:2])[:200]}")


def enter(memory_mb: int | None = None) -> None:
    """Run first in every graded kernel (IPKernelApp.exec_lines): resource limits, then the audit hook."""
    import resource
    if memory_mb:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_MB * 2**20, FILE_MB * 2**20))
    mode = os.environ.get(ENV_MODE)
    if mode not in ("bwrap", "audit"):
        return
    # scratch: under bubblewrap /tmp is the kernel's own RAM disk; otherwise the grader made these folders
    scratch = [os.environ[k] for k in ("TMPDIR", "IPYTHONDIR", "MPLCONFIGDIR", "COURSE_DATA_DIR")
               if os.environ.get(k)] + (["/tmp"] if mode == "bwrap" else [])
    system = ["/usr", "/etc", "/lib", "/lib64", "/bin", "/proc", "/dev", "/sys", "/opt/conda"]
    deny = [p for p in os.environ.get(ENV_DENY, "").split(os.pathsep) if p]
    sys.addaudithook(Guard(system, scratch, os.environ.get(ENV_LOG), block_spawn=(mode == "audit"),
                           deny=deny, home=os.getcwd(), code=code_paths()))


if __name__ == "__main__":
    sys.exit(main())
