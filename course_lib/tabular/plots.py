"""The figures of notebook 11's synthetic-patient section: real vs synthetic, one look each.

    marginals(real, {"VAE": fake}, schema)          # a histogram / bar chart per column, tables overlaid
    associations(real, {"VAE": fake}, schema)       # correlation heatmaps side by side (evaluate's encoding)
    dcr_histogram(evaluate.privacy(...))            # synthetic vs held-out distances to the closest record
    roc_curves(anomaly.compare_with_supervised(...))
"""
from __future__ import annotations

import numpy as np

from course_lib.tabular import evaluate
from course_lib.tabular.encoding import TableEncoder, categories_of
from course_lib.tabular.schema import Schema


def _plt():
    import matplotlib.pyplot as plt
    return plt


def marginals(real, fakes: dict, schema: Schema, columns=None, ncols: int = 5):
    """One panel per column: density histograms (numeric, shared bins) or category shares (categorical)."""
    plt = _plt()
    columns = list(columns or schema.columns)
    rows = -(-len(columns) // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(2.6 * ncols, 2.2 * rows), dpi=80, squeeze=False)
    tables = {"real": real, **fakes}
    for ax, col in zip(axes.flat, columns):
        if col in schema.numeric:
            lo, hi = np.percentile(real[col], [0.5, 99.5])
            bins = np.linspace(lo, hi, 30)
            for name, t in tables.items():
                ax.hist(np.clip(t[col], lo, hi), bins=bins, density=True, histtype="step", label=name)
        else:
            cats = categories_of(real[col])
            width = 0.8 / len(tables)
            for i, (name, t) in enumerate(tables.items()):
                share = t[col].astype(object).value_counts(normalize=True).reindex(cats, fill_value=0)
                ax.bar(np.arange(len(cats)) + i * width, share.to_numpy(), width=width, label=name)
            ax.set_xticks(np.arange(len(cats)) + 0.4 - width / 2, [str(c) for c in cats], rotation=90, fontsize=7)
        ax.set_title(col, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(columns):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def associations(real, fakes: dict, schema: Schema):
    """Pearson correlation heatmaps of the encoded tables (encoder fitted on `real`), real first."""
    plt = _plt()
    enc = TableEncoder(schema, "standard").fit(real)
    tables = {"real": real, **fakes}
    fig, axes = plt.subplots(1, len(tables), figsize=(4.6 * len(tables), 4.8), dpi=80, squeeze=False)
    for ax, (name, t) in zip(axes[0], tables.items()):
        im = ax.imshow(evaluate.association_matrix(t, enc), vmin=-1, vmax=1, cmap="RdBu_r")
        diff = "" if name == "real" else f"\nassoc_diff {evaluate.association_difference(real, t, schema):.3f}"
        ax.set_title(name + diff, fontsize=9)
        middles = [(s.start + s.stop - 1) / 2 for s in enc.spans]        # one label per original column
        ax.set_xticks(middles, [s.name for s in enc.spans], rotation=90, fontsize=7)
        ax.set_yticks(middles, [s.name for s in enc.spans] if ax is axes[0][0] else [], fontsize=7)
        for s in enc.spans[1:]:                                         # lines between original columns
            ax.axhline(s.start - 0.5, color="0.6", lw=0.4)
            ax.axvline(s.start - 0.5, color="0.6", lw=0.4)
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8)
    return fig


def dcr_histogram(privacy: dict, ax=None, title: str = ""):
    """The two DCR distributions of evaluate.privacy: synthetic rows and held-out real rows."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3), dpi=80)
    syn, hold = privacy["dcr_synthetic"], privacy["dcr_holdout"]
    bins = np.linspace(0, np.percentile(np.r_[syn, hold], 99), 40)
    ax.hist(hold, bins=bins, density=True, alpha=0.5, label="held-out real rows")
    ax.hist(syn, bins=bins, density=True, alpha=0.5, label="synthetic rows")
    ax.axvline(privacy["holdout_p5"], color="k", ls="--", lw=1, label="held-out 5th percentile")
    ax.set_xlabel("distance to the closest training row")
    ax.set_title(title or f"membership AUC {privacy['mia_auc']:.2f}", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def roc_curves(result: dict, ax=None):
    """ROC curves of anomaly.compare_with_supervised's two detectors, AUCs in the legend."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.4), dpi=80)
    for name, label in (("generative", "VAE on normal rows only"), ("supervised", "logistic regression, labels")):
        fpr, tpr = result[f"{name}_roc"]
        ax.plot(fpr, tpr, label=f"{label} (AUC {result[f'{name}_auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=7, loc="lower right")
    return ax
