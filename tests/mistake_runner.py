"""Run an assignment's cells in this process, with one solution cell swapped for a student's variant.

The mistake banks (tests/mistakes/<assignment>.py) describe common student mistakes as edits of the
solution cells. For each variant this module executes, in one Python namespace and without a kernel:
the release's setup cells (once per assignment, then copied), every solution cell (the source's answer,
or the variant for the cell it changes), and either the release's test cells and self-check cells (what
a student sees) or the source's test cells with their hidden tests (what the grader runs). The "try it"
cells (short training runs) are skipped: they check nothing.

A bank module defines
    MISTAKES = {name: {"cell": grade_id, "replace": [(old, new), ...] or "code": source, "expect": text}}
    HONEST   = {name: {"cell": grade_id, "code": source}}   # other correct answers, from the task text
`expect` is a piece of the message the student must see (a failing assertion's message or a self-check's
"❌" line); `replace` edits the solution cell's source (each `old` must occur in it, so a bank that no
longer matches its solution fails loudly instead of testing nothing).
"""
from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
BANKS = Path(__file__).resolve().parent / "mistakes"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def load_bank(name: str):
    path = BANKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"mistake_bank_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def banks() -> list[str]:
    return sorted(p.stem for p in BANKS.glob("*.py") if not p.stem.startswith("_"))


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if not any(m in line for m in SOLUTION_MARKERS))


@dataclass
class Failure:
    where: str          # test cell grade_id, or "self-check"
    kind: str           # exception class name, or "check"
    message: str

    def __str__(self):
        return f"{self.where}: {self.kind}: {self.message}"


@dataclass
class Run:
    failures: list[Failure] = field(default_factory=list)

    def failed_cells(self) -> set[str]:
        return {f.where for f in self.failures if f.where != "self-check"}

    def messages(self) -> str:
        return "\n".join(map(str, self.failures)) or "(nothing failed)"


class Assignment:
    """One assignment's release and source, with its setup cells executed once."""

    def __init__(self, name: str):
        self.name = name
        self.release = nbformat.read(REPO / "exercises" / name / f"{name}.ipynb", as_version=4)
        self.source = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
        self.answers = {_meta(c)["grade_id"]: _strip_markers(c.source) for c in self.source.cells
                        if c.cell_type == "code" and _meta(c).get("solution")}
        self.hidden = {_meta(c)["grade_id"]: c.source for c in self.source.cells
                       if c.cell_type == "code" and _meta(c).get("grade") and not _meta(c).get("solution")}
        self.plan = []  # (kind, grade_id, source) in notebook order
        for cell in self.release.cells:
            if cell.cell_type != "code":
                continue
            meta = _meta(cell)
            if meta.get("solution"):
                self.plan.append(("answer", meta["grade_id"], cell.source))
            elif meta.get("grade"):
                self.plan.append(("test", meta["grade_id"], cell.source))
            elif meta:                                        # locked set-up cells (imports, data)
                self.plan.append(("setup", meta["grade_id"], cell.source))
            elif "from course_lib import checks" in cell.source:
                self.plan.append(("selfcheck", "self-check", cell.source))
        self.tests = [gid for kind, gid, _ in self.plan if kind == "test"]
        # the test cell that grades each answer cell: the first test cell after it
        self.part_test = {}
        for i, (kind, gid, _) in enumerate(self.plan):
            if kind == "answer":
                self.part_test[gid] = next(g for k, g, _ in self.plan[i:] if k == "test")
        self.base = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()):
            for kind, gid, source in self.plan:
                if kind == "setup":
                    exec(compile(source, f"<{name}:{gid}>", "exec"), self.base)

    def variant_source(self, cell: str, replace=None, code=None) -> str:
        if cell not in self.answers:
            raise KeyError(f"{self.name}: no solution cell {cell!r}; cells: {sorted(self.answers)}")
        if code is not None:
            return code
        source = self.answers[cell]
        for old, new in replace:
            if old not in source:
                raise ValueError(f"{self.name}/{cell}: the bank's {old!r} is not in the solution any more")
            source = source.replace(old, new)
        return source

    def _namespace(self) -> dict:
        import torch
        torch.manual_seed(0)
        ns = {}
        for key, value in self.base.items():
            if isinstance(value, torch.Tensor):
                ns[key] = value.clone()
            elif isinstance(value, (list, dict, set)) and key != "__builtins__":
                ns[key] = copy.deepcopy(value)
            else:
                ns[key] = value
        return ns

    def run(self, swap: dict[str, str] | None = None, *, hidden: bool = False) -> Run:
        """Execute every answer (the source's, or `swap[grade_id]`) and every test: the release's visible
        tests and self-checks, or (hidden=True) the source's full test cells."""
        swap = swap or {}
        ns, result = self._namespace(), Run()
        for kind, gid, source in self.plan:
            if kind == "setup" or (kind == "selfcheck" and hidden):
                continue
            if kind == "answer":
                source = swap.get(gid, self.answers[gid])
            elif kind == "test" and hidden:
                source = self.hidden[gid]
            out = io.StringIO()
            try:  # a student's code may warn (x.T on a batch): the runner judges failures, not style
                with contextlib.redirect_stdout(out), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(compile(source, f"<{self.name}:{gid}>", "exec"), ns)
            except Exception as exc:  # noqa: BLE001 - a student's code may raise anything
                if kind == "answer":
                    result.failures.append(Failure(gid, type(exc).__name__, f"answer cell raised: {exc}"))
                else:
                    message = str(exc) or traceback.format_exception_only(type(exc), exc)[-1].strip()
                    result.failures.append(Failure(gid, type(exc).__name__, message))
            if kind == "selfcheck":  # one "❌ ..." report may span lines (a tensor's repr)
                for report in out.getvalue().replace("\n✅", "\n\0✅").replace("\n❌", "\n\0❌").split("\0"):
                    if report.startswith("❌"):
                        result.failures.append(Failure("self-check", "check", report.strip()))
        return result
