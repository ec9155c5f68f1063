"""The `genai-course` command: doctor, run and bench on a tiny notebook."""
import json
import subprocess
import sys

import nbformat
import pytest

from course_lib import bench, cli, doctor, runner


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_run_executes_and_writes_copy(tmp_path, capsys):
    nb = _notebook(tmp_path / "hello.ipynb", "import os\nprint('fast=' + os.environ['COURSE_FAST'])")
    out = tmp_path / "out"
    assert cli.main(["run", str(nb), "--out", str(out), "--fast"]) == 0
    executed = nbformat.read(out / "hello.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "fast=1"
    assert nbformat.read(nb, as_version=4).cells[0].outputs == []  # source untouched
    table = capsys.readouterr().out
    assert "hello.ipynb" in table and "ok" in table and "total" in table


def test_run_reports_failure_and_exit_code(tmp_path, capsys):
    nb = _notebook(tmp_path / "broken.ipynb", "raise ValueError('boom')")
    assert cli.main(["run", str(nb), "--out", str(tmp_path / "out")]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_run_unknown_notebook_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_runner_rejects_non_notebook(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(FileNotFoundError, match=r"\.ipynb"):
        runner.run_notebook(tmp_path / "x.txt", None)


def test_doctor_reports_each_check():
    checks = doctor.run_checks()
    names = {c.name for c in checks}
    assert {"python", "torch", "device", "jupyter kernel"} <= names
    assert any(n.startswith("data:digits") for n in names)
    for c in checks:
        assert c.ok or c.fix, f"{c.name} failed without a fix-it line"


def test_doctor_only_warns_when_the_apps_extra_data_is_missing(monkeypatch):
    """The student's kit has no bokeh-sampledata: the stocks records (notebook 10) are a warning, not a failure."""
    import builtins
    real_import = builtins.__import__

    def no_bokeh(name, *args, **kwargs):
        if name.startswith("bokeh_sampledata"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_bokeh)
    checks = {c.name: c for c in doctor.check_datasets()}
    stocks = checks["data:stocks"]
    assert not stocks.ok and not stocks.required and "genai-course[apps]" in stocks.fix
    assert "bokeh-sampledata" in stocks.detail
    assert checks["data:digits"].ok and checks["data:digits"].required


def test_doctor_fails_with_fix_line_when_package_missing(monkeypatch, capsys):
    real = doctor._version
    monkeypatch.setattr(doctor, "_version", lambda d: None if d == "mlxtend" else real(d))
    assert doctor.main() == 1
    out = capsys.readouterr().out
    assert "[FAIL] mlxtend" in out and "fix:" in out


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "course_lib.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for verb in ("doctor", "run", "bench", "release"):
        assert verb in out.stdout


def test_instructor_verbs_start_without_torch(tmp_path):
    """An instructor runs `collect`, `grades` or `status` many times a term: the parser (every verb's --help
    text included) and those verbs load neither torch nor course_lib.gradebook's grading machinery."""
    code = ("import sys; from course_lib import cli; cli.build_parser().parse_args(['collect', 'x']); "
            "import course_lib.collect, course_lib.config; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "the command line now imports torch at start-up"
    helptext = subprocess.run([sys.executable, "-m", "course_lib.cli", "autograde", "--help"], capture_output=True,
                              text=True, check=True).stdout
    from course_lib import gradebook
    first_paragraph = " ".join(gradebook.autograde.__doc__.strip().split("\n\n")[0].split())
    assert first_paragraph in " ".join(helptext.split())  # the description is still the docstring's


def test_bench_renders_results_table(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "RESULTS_DIR", tmp_path)
    (tmp_path / "x.json").write_text(json.dumps({
        "title": "Example", "command": "python x.py", "date": "2026-11-28",
        "rows": [{"model": "a", "nll": 1.5}], "notes": ["a note"]}))
    md = bench.render()
    assert "## Example" in md and "`python x.py`" in md
    assert "| model | nll |" in md and "| a | 1.5 |" in md and "- a note" in md


def test_train_unknown_family_is_a_clear_error():
    with pytest.raises(SystemExit, match="unknown model family 'pixelcnn'.*vae"):
        cli.main(["train", "pixelcnn", "--dataset", "digits", "--out", "x.pt"])


def test_options_are_parsed_by_type():
    assert cli._options(["beta=4", "lr=0.5", "name=cosine", "cond=true"]) == {
        "beta": 4, "lr": 0.5, "name": "cosine", "cond": True}
    with pytest.raises(SystemExit, match="key=value"):
        cli._options(["beta"])


def test_sample_needs_a_family_in_the_checkpoint(tmp_path):
    from torch import nn

    from course_lib import checkpoints
    path = checkpoints.save(tmp_path / "plain.pt", nn.Linear(2, 2), {"d": 2})
    with pytest.raises(SystemExit, match="no meta\\['family'\\]"):
        cli.main(["sample", str(path)])


def test_train_runs_on_one_thread_unless_told_otherwise(tmp_path, monkeypatch):
    """The benchmarks and the zoo were measured on one thread; on a busy 2-core machine two threads made the
    small convolutions ~8x slower. `--threads` and COURSE_THREADS override."""
    import torch

    from course_lib import cli

    monkeypatch.delenv("COURSE_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        for extra, want in (([], 1), (["--threads", "2"], 2)):
            torch.set_num_threads(3)
            assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "2", *extra,
                             "--out", str(tmp_path / "g.pt")]) == 0
            assert torch.get_num_threads() == want
    finally:
        torch.set_num_threads(before)
