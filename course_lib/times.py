"""One source for how long each notebook takes: the timings `genai-course bench` measured.

The README's "CPU min" column and the first line of each notebook's **Time.** paragraph are written from
benchmarks/results/notebooks.json, so the figures a student reads agree with each other and with what was
measured. `genai-course bench` (and `--render-only`) rewrites them; a test fails when they drift apart.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

_SENTENCE = re.compile(r"Running every cell: [^\n]*? \(measured by `genai-course bench`\)\.")
_README_ROW = re.compile(r"^\| (\d\d) \| \[[^\]]+\]\((notebooks/[^)]+\.ipynb)\) \|([^|]*)\|([^|]*)\|", re.M)


def measured(results: Path) -> dict[str, dict[str, float]]:
    """{"notebooks/NN_x.ipynb": {"full": seconds, "fast": seconds}} from the bench's notebooks.json."""
    out: dict[str, dict[str, float]] = {}
    for row in json.loads(Path(results).read_text())["rows"]:
        if row.get("ok"):
            out.setdefault(row["notebook"], {})[row["mode"]] = float(row["seconds"])
    return out


def spoken(seconds: float) -> str:
    """A duration as a reader says it: 'about 15 seconds', 'about 2.5 minutes'."""
    if seconds < 50:
        return f"about {max(5, 5 * round(seconds / 5))} seconds"
    minutes = max(1.0, round(seconds / 30) / 2)
    return f"about {minutes:g} minute{'s' if minutes != 1 else ''}"


def sentence(full: float, fast: float | None) -> str:
    """The generated first sentence of a notebook's **Time.** paragraph."""
    fast_part = f", {spoken(fast)} with `COURSE_FAST=1`" if fast is not None else ""
    return f"Running every cell: {spoken(full)} on a 2-core CPU{fast_part} (measured by `genai-course bench`)."


def cpu_minutes(full: float) -> str:
    """The README's CPU min cell."""
    return f"{full / 60:.1f}"


def _notebook_text(path: Path) -> str:
    cell = json.loads(path.read_text())["cells"][0]
    return "".join(cell["source"])


def problems(root: Path) -> list[str]:
    """Every place where a notebook or the README disagrees with the measured times (empty: all agree)."""
    times = measured(root / "benchmarks" / "results" / "notebooks.json")
    found = []
    for name, t in sorted(times.items()):
        if "full" not in t or not (root / name).exists():
            continue
        want = sentence(t["full"], t.get("fast"))
        got = _SENTENCE.findall(_notebook_text(root / name))
        if got != [want]:
            found.append(f"{name}: first cell should say {want!r}, says {got or 'nothing generated'}")
    readme = (root / "README.md").read_text()
    for _, name, _, cpu in _README_ROW.findall(readme):
        if name in times and "full" in times[name] and cpu.strip() != cpu_minutes(times[name]["full"]):
            found.append(f"README.md: {name} CPU min is {cpu.strip()}, measured {cpu_minutes(times[name]['full'])}")
    return found


def sync(root: Path) -> list[Path]:
    """Write the measured times into each notebook's first cell and the README; returns the files changed."""
    times = measured(root / "benchmarks" / "results" / "notebooks.json")
    changed = []
    for name, t in sorted(times.items()):
        path = root / name
        if "full" not in t or not path.exists():
            continue
        nb = json.loads(path.read_text())
        old = "".join(nb["cells"][0]["source"])
        new = _SENTENCE.sub(sentence(t["full"], t.get("fast")), old)
        if new != old:
            lines = new.split("\n")
            nb["cells"][0]["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    readme_path = root / "README.md"
    readme = readme_path.read_text()

    def row(m: re.Match) -> str:
        t = times.get(m.group(2), {})
        if "full" not in t:
            return m.group(0)
        return m.group(0)[: m.start(4) - m.start(0)] + f" {cpu_minutes(t['full'])} |"
    new_readme = _README_ROW.sub(row, readme)
    if new_readme != readme:
        readme_path.write_text(new_readme)
        changed.append(readme_path)
    return changed
