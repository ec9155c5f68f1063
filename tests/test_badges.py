"""Every notebook's Colab badge opens that notebook itself, and its setup cell installs this repository."""
import nbformat
import pytest

from course_lib import badges
from course_lib.course import REPO_ROOT

REPO, BRANCH = badges.repository()
NOTEBOOKS = badges.course_notebooks()


def test_repository_is_configured_once():
    assert REPO.startswith("https://github.com/") and BRANCH


def test_course_notebooks_are_found():
    folders = {p.relative_to(REPO_ROOT).parts[0] for p in NOTEBOOKS}
    assert folders == {"notebooks", "solutions", "exercises"}, folders


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_badge_points_at_its_own_notebook(path):
    nb = nbformat.read(path, as_version=4)
    rel = path.relative_to(REPO_ROOT).as_posix()
    url = badges.find_badge(nb)
    assert url is not None, f"{rel} has no '<!-- badge -->' cell"
    assert url == badges.colab_url(rel, REPO, BRANCH), (
        f"{rel}: badge opens {url}; run `python scripts/write_badges.py` (or `make release` for exercises)")
    setup = [c for c in nb.cells if "setup" in c.get("metadata", {}).get("tags", [])]
    assert len(setup) == 1 and setup[0].source == badges.setup_source(REPO, BRANCH, badges.needs_apps(rel)), (
        f"{rel}: setup cell missing or stale; run `python scripts/write_badges.py`")


def test_apply_fills_marked_cells_only():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_markdown_cell(badges.BADGE_MARKER),
                nbformat.v4.new_code_cell("# placeholder", metadata={"tags": ["setup"]}),
                nbformat.v4.new_code_cell("x = 1")]
    assert badges.apply(nb, "exercises/01_x/01_x.ipynb", REPO, BRANCH)
    assert nb.cells[0].source == "# Title" and nb.cells[3].source == "x = 1"
    assert badges.find_badge(nb).endswith("/blob/main/exercises/01_x/01_x.ipynb")
    assert "git+" in nb.cells[2].source and 'find_spec("course_lib")' in nb.cells[2].source
    assert not badges.apply(nb, "exercises/01_x/01_x.ipynb", REPO, BRANCH)  # idempotent


def test_application_notebooks_install_the_apps_extra():
    for rel in ("notebooks/10_generative_ai_for_art_music_and_writing.ipynb", "exercises/10_creative/10_creative.ipynb",
                "solutions/12_finance/12_finance.ipynb"):
        assert badges.needs_apps(rel), rel
    for rel in ("notebooks/09_efficiency_and_personalisation.ipynb", "exercises/08_multimodal/08_multimodal.ipynb",
                "notebooks/00_welcome.ipynb"):
        assert not badges.needs_apps(rel), rel
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("", metadata={"tags": ["setup"]})]
    badges.apply(nb, "exercises/10_creative/10_creative.ipynb", REPO, BRANCH)
    assert "genai-course[apps] @ git+" in nb.cells[0].source
    for name in badges.APPS_IMPORTS:  # any missing application library triggers the install
        assert f"'{name}'" in nb.cells[0].source
    badges.apply(nb, "exercises/09_efficiency/09_efficiency.ipynb", REPO, BRANCH)
    assert "[apps]" not in nb.cells[0].source and "music21" not in nb.cells[0].source


def test_apps_imports_name_every_package_of_the_apps_extra():
    import importlib.metadata
    import tomllib
    from pathlib import Path

    extra = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["apps"]
    for requirement in extra:
        dist = requirement.split(">")[0].split("=")[0].split("[")[0].strip()
        top = importlib.metadata.distribution(dist).read_text("top_level.txt")
        provided = set(top.split()) if top else {dist.replace("-", "_")}
        assert provided & set(badges.APPS_IMPORTS), (dist, provided)


def test_non_github_repository_is_rejected():
    with pytest.raises(ValueError, match="github.com"):
        badges.colab_url("notebooks/a.ipynb", "https://gitlab.com/x/y", "main")
