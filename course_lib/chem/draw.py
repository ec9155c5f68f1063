"""Pictures of molecules with RDKit's own drawing (Draw.MolsToGridImage), each labelled with its QED."""
from __future__ import annotations


def grid(smiles, *, n: int = 12, per_row: int = 4, size: int = 180, legends=None):
    """A PIL image of the first n valid molecules of `smiles` in a grid, legends "QED 0.71" unless given
    (one per valid molecule shown). Invalid strings are skipped; none valid is a ValueError."""
    from rdkit.Chem import QED, Draw
    from course_lib.chem.metrics import parse
    mols = [m for m in parse(smiles) if m is not None][:n]
    if not mols:
        raise ValueError(f"no valid SMILES to draw among {len(list(smiles))} strings")
    legends = [f"QED {QED.qed(m):.2f}" for m in mols] if legends is None else [str(x) for x in legends][:len(mols)]
    if len(legends) != len(mols):
        raise ValueError(f"need one legend per molecule drawn ({len(mols)}), got {len(legends)}")
    options = Draw.MolDrawOptions()
    options.drawMolsSameScale = False    # each molecule fills its cell: one long chain would shrink every other
    return Draw.MolsToGridImage(mols, molsPerRow=per_row, subImgSize=(size, size), legends=legends, returnPNG=False,
                                drawOptions=options)
