"""Model files hold the model; each family's defaults and command-line glue live in course_lib.recipes."""
import ast
import importlib
import pathlib

import pytest

from course_lib import cli

FAMILIES = cli.FAMILIES


@pytest.mark.parametrize("family", FAMILIES)
def test_recipe_has_the_cli_glue_and_the_model_file_does_not(family):
    recipe = importlib.import_module(f"course_lib.recipes.{family}")
    model = importlib.import_module(f"course_lib.models.{family}")
    assert callable(recipe.cli_train) and callable(recipe.cli_sample) and isinstance(recipe.DEFAULTS, dict)
    for name in ("cli_train", "cli_sample", "DEFAULTS"):
        assert not hasattr(model, name), f"course_lib.models.{family}.{name} belongs in course_lib.recipes.{family}"
    assert cli._family_module(family) is recipe


@pytest.mark.parametrize("family", FAMILIES)
def test_model_files_import_neither_recipes_nor_the_cli(family):
    path = pathlib.Path(importlib.import_module(f"course_lib.models.{family}").__file__)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            assert not any(n.startswith(("course_lib.recipes", "course_lib.cli", "course_lib.samples")) for n in names), \
                (family, node.module)
