"""`genai-course public-copy`: a public repository built from a private course never holds its hidden tests.

The private repository here is the toy course under git, with a hidden test changed in a later commit;
the public copy is made, the private side changes (an upstream update, another hidden-test fix), and the
copy is updated: its whole history (git log -p) must hold no hidden test, solution or model answer.
"""
from __future__ import annotations

import subprocess

import nbformat
import pytest

import grading_helpers as toy
from course_lib import badges, cli

SECRETS = ("HIDDEN-ADD", "HIDDEN-ROOT", "HIDDEN-NEW", "SECRET-ADD", "SECRET-ROOT", "SECRET-WRITTEN")
PUBLIC_URL = "https://github.com/teacher/genai-course-2027"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def git(folder, *args) -> str:
    return subprocess.run(GIT + ["-C", str(folder), *args], check=True, capture_output=True, text=True).stdout


def commit(folder, message):
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", message)


def history(folder) -> str:
    """Every version of every file the repository ever held."""
    return git(folder, "log", "--all", "-p", "--full-history", "--no-color")


@pytest.fixture
def private(tmp_path):
    root = tmp_path / "private"
    toy.make_course(root)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.genai-course]\n'
                                         'repository = "https://github.com/genai-course/genai-course"\n'
                                         'branch = "main"\n')
    (root / "README.md").write_text("The course.\n")
    assert cli.main(["assign", "--all", "--course", str(root)]) == 0
    git(root, "init", "-q", "-b", "main")
    commit(root, "course")
    toy.add_hidden_test(root, "assert root(16) == 4  # HIDDEN-NEW")  # a private change of the hidden tests
    commit(root, "harder hidden test")
    return root


def test_public_copy_has_no_solutions_in_its_history_and_updates_without_conflicts(private, tmp_path, capsys):
    dest = tmp_path / "public"
    assert cli.main(["public-copy", str(dest), "--repository", PUBLIC_URL, "--course", str(private)]) == 0
    assert "1 removed" not in capsys.readouterr().out
    assert not (dest / "solutions").exists() and (dest / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").is_file()
    release = nbformat.read(dest / "exercises" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    assert badges.find_badge(release).startswith("https://colab.research.google.com/github/teacher/genai-course-2027/"
                                                 f"blob/main/exercises/{toy.NAME}/")
    assert f'repository = "{PUBLIC_URL}"' in (dest / "pyproject.toml").read_text()
    log = history(dest)
    assert [s for s in SECRETS if s in log] == [] and "HIDDEN-ROOT" in history(private)  # the check can fail
    assert len(git(dest, "rev-list", "--all").split()) == 1

    # upstream improves the course (pulled into the private repository), and another hidden test changes
    (private / "README.md").write_text("The course, improved upstream.\n")
    toy.add_hidden_test(private, "assert root(25) == 5  # HIDDEN-NEW")
    commit(private, "merge upstream; another hidden test")
    assert cli.main(["public-copy", str(dest), "--repository", PUBLIC_URL, "--course", str(private)]) == 0
    assert "1 file(s) added or changed, 0 removed" in capsys.readouterr().out
    assert (dest / "README.md").read_text() == "The course, improved upstream.\n"
    assert [s for s in SECRETS if s in history(dest)] == []
    assert len(git(dest, "rev-list", "--all").split()) == 2
    assert cli.main(["public-copy", str(dest), "--repository", PUBLIC_URL, "--course", str(private)]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_public_copy_refuses_a_leak_and_a_dirty_or_nested_destination(private, tmp_path, capsys):
    (private / "notes.md").write_text("For TAs: the hidden test is\n    assert root(9) == 3  # HIDDEN-ROOT\n")
    commit(private, "notes")
    dest = tmp_path / "public"
    assert cli.main(["public-copy", str(dest), "--course", str(private)]) == 2
    err = capsys.readouterr().err
    assert "notes.md: hidden test: assert root(9) == 3  # HIDDEN-ROOT" in err and "--exclude PATH" in err
    assert not dest.exists()  # nothing was made
    assert cli.main(["public-copy", str(dest), "--exclude", "notes.md", "--course", str(private)]) == 0
    assert not (dest / "notes.md").exists() and "HIDDEN-ROOT" not in history(dest)

    (dest / "README.md").write_text("edited by hand in the public copy\n")
    assert cli.main(["public-copy", str(dest), "--exclude", "notes.md", "--course", str(private)]) == 2
    assert "has uncommitted changes" in capsys.readouterr().err
    assert cli.main(["public-copy", str(private / "public"), "--course", str(private)]) == 2
    assert "is inside the private repository" in capsys.readouterr().err
