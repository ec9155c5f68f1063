"""Molecules as text (notebook 11): cleaning, scaffolds, randomized SMILES, the field's metrics, drawing.

RDKit does every chemistry step; this package only decides what to ask it and how to count.

    from course_lib import data
    from course_lib.chem import metrics, randomize_all, grid
    train = data.load("molecules", split="train")          # canonical SMILES, scaffold split
    randomize_all(train[:2], seed=0, n=3)                   # other spellings of the same molecules
    metrics.evaluate(samples, train, data.load("molecules", split="test"))   # validity ... Fréchet
    grid(samples)                                           # PIL image, QED under each molecule

The tokenizer is course_lib.tokenizers.SmilesTokenizer; training and sampling a SMILES GPT and
goal-directed hill climbing are in course_lib.recipes.smiles.
"""
from .augment import randomize_all, randomized_smiles
from .clean import CleanReport, canonical, clean_smiles
from .draw import grid
from .metrics import evaluate, novelty, uniqueness, validity
from .scaffolds import murcko_scaffold, scaffold_split

__all__ = ["CleanReport", "canonical", "clean_smiles", "murcko_scaffold", "scaffold_split", "randomized_smiles",
           "randomize_all", "evaluate", "validity", "uniqueness", "novelty", "grid"]
