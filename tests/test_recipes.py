"""Model files hold the model; each family's defaults and command-line glue live in course_lib.recipes."""
import ast
import importlib
import pathlib

import pytest

from course_lib import cli, models

FAMILIES = cli.FAMILIES


@pytest.mark.parametrize("family", FAMILIES)
def test_recipe_has_the_cli_glue_and_the_model_file_does_not(family):
    recipe = importlib.import_module(f"course_lib.recipes.{family}")
    model = importlib.import_module(models.FAMILIES[family][0])     # t2i's model is models.latent_diffusion
    assert callable(recipe.cli_train) and callable(recipe.cli_sample) and isinstance(recipe.DEFAULTS, dict)
    for name in ("cli_train", "cli_sample", "DEFAULTS"):
        assert not hasattr(model, name), f"course_lib.models.{family}.{name} belongs in course_lib.recipes.{family}"
    assert cli._family_module(family) is recipe


MODELS = pathlib.Path(importlib.import_module("course_lib.models").__file__).parent


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.py")), ids=lambda p: str(p.relative_to(MODELS)))
def test_model_files_import_neither_recipes_nor_the_cli_nor_the_training_loop(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            assert not any(n.startswith(("course_lib.recipes", "course_lib.cli", "course_lib.samples", "course_lib.train"))
                           for n in names), (path.name, node.module)


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.py")), ids=lambda p: str(p.relative_to(MODELS)))
def test_model_files_are_short_enough_to_read_at_one_sitting(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 250, f"{path.relative_to(MODELS)} has {lines} lines: split the family into a small package"


def test_training_glue_lives_in_the_recipes():
    from course_lib.models import diffusion, gan, gpt
    for module, name in ((diffusion, "train_model"), (gan, "GANTrainer"), (gan, "translate"), (gpt, "random_batches"),
                         (gpt, "evaluate_loss")):
        assert not hasattr(module, name), f"{module.__name__}.{name} is training glue: it belongs in course_lib.recipes"


def test_sample_defaults_are_the_best_measured_samplers():
    """`genai-course sample` with no --option runs what benchmarks/RESULTS.md found best (issue 13, part 8)."""
    from course_lib.models.diffusion import Diffusion
    from course_lib.models.vae import VAE
    from course_lib.recipes import diffusion, vae
    digits, mnist = VAE(image_size=8, levels=17), VAE(image_size=28, levels=256, likelihood="bernoulli")
    with_mixture = {"latent_mixture": {}}
    assert vae.sampler_options(digits, with_mixture, {}) == {"prior": "mixture", "pixels": "sample"}
    assert vae.sampler_options(mnist, with_mixture, {}) == {"prior": "mixture", "pixels": "mode"}
    assert vae.sampler_options(digits, {}, {}) == {"prior": "standard", "pixels": "sample"}   # conditional: no mixture
    assert vae.sampler_options(digits, with_mixture, {"prior": "standard", "pixels": "mean"}) == \
        {"prior": "standard", "pixels": "mean"}
    with pytest.raises(SystemExit, match="no latent mixture"):
        vae.sampler_options(digits, {}, {"prior": "mixture"})
    images, points = Diffusion((1, 8, 8), arch="unet", width=8), Diffusion((2,), hidden=8, depth=1)
    assert diffusion.sampler_options(images, {}) == {"sampler": "ddim", "steps": 50, "eta": 0.0}
    assert diffusion.sampler_options(points, {}) == {"sampler": "ddpm"}
    assert diffusion.sampler_options(images, {"sampler": "ddpm"}) == {"sampler": "ddpm"}
    assert diffusion.sampler_options(points, {"steps": "25"}) == {"sampler": "ddim", "steps": 25, "eta": 0.0}
    assert diffusion.sampler_options(images, {"eta": "0.5"}) == {"sampler": "ddim", "steps": 50, "eta": 0.5}
