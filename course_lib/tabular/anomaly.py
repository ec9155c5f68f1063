"""Anomaly detection with a generative model: learn what "normal" looks like, flag what it explains badly.

A TabularVAE is trained on NORMAL rows only (benign aspirates); a new row's anomaly score is its negative
ELBO, -ELBO(x) >= -log p(x), in nats: how poorly the model of normal cases explains it. Numeric columns
are standardized (not quantile-scaled: the quantile map would squash a value far outside the normal
range back inside it, hiding exactly what we want to see). The score is compared, on the same test
rows, with a supervised classifier that was given the labels (logistic regression on standardized
features): when labels exist the supervised model usually wins; the generative detector needs no
labelled anomalies at all, and flags anything unlike its training data, including kinds never seen.

    det = VAEAnomalyDetector(features, steps=2000).fit(train[train.diagnosis == "benign"])
    scores = det.score(test)                 # (N,) higher = less like the benign training rows
    compare_with_supervised(train, test, schema, normal="benign")   # both AUCs and their ROC curves
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib import config
from course_lib.tabular.encoding import TableEncoder
from course_lib.tabular.schema import Schema


class VAEAnomalyDetector:
    """fit(normal_rows) trains a TabularVAE on them; score(rows) -> -ELBO per row, nats (k draws, seeded)."""

    def __init__(self, features: Schema, *, steps: int | None = None, seconds: float | None = None,
                 latent_dim: int = 4, hidden: int = 64, depth: int = 2, batch_size: int = 64, lr: float = 2e-3,
                 k: int = 16, seed: int = 0):
        if features.target is not None:
            raise ValueError(f"the detector models features only: pass a schema without a target "
                             f"(got target {features.target!r}); the labels are what it must not see")
        self.features, self.seed, self.k = features, seed, k
        self.steps = config.budget(2000, 150) if steps is None and seconds is None else steps
        self.seconds, self.batch_size, self.lr = seconds, batch_size, lr
        self.model_kw = dict(latent_dim=latent_dim, hidden=hidden, depth=depth)
        self.model = self.history = None

    def fit(self, normal_rows) -> "VAEAnomalyDetector":
        from course_lib.models.tabular_vae import TabularVAE
        from course_lib.train import CosineSchedule, fit, random_rows
        rows = normal_rows[list(self.features.columns)]
        self.encoder = TableEncoder(self.features, "standard").fit(rows)
        X = torch.from_numpy(self.encoder.transform(rows))                       # (N, D)
        torch.manual_seed(self.seed)
        self.model = TabularVAE([[s.kind, s.stop - s.start] for s in self.encoder.spans], **self.model_kw)
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr)
        sched = CosineSchedule(opt, self.lr, steps=self.steps, seconds=self.seconds)
        batches = random_rows(X, batch_size=min(self.batch_size, len(X)), generator=torch.Generator().manual_seed(self.seed))
        self.history = fit(self.model, lambda m, x: m.loss(x), batches, optimizer=opt, steps=self.steps,
                           seconds=self.seconds, on_step=[sched], progress=False, desc="anomaly VAE")
        return self

    def score(self, rows) -> np.ndarray:
        """(N,) negative ELBO in nats, averaged over k draws of z with a seeded generator."""
        if self.model is None:
            raise RuntimeError("call fit(normal_rows) before score")
        X = torch.from_numpy(self.encoder.transform(rows[list(self.features.columns)]))
        self.model.eval()
        with torch.no_grad():
            elbo = self.model.elbo(X, k=self.k, generator=torch.Generator().manual_seed(self.seed))
        return (-elbo).numpy()


def compare_with_supervised(train, test, schema: Schema, normal, *, steps: int | None = None, seed: int = 0) -> dict:
    """Both detectors on the same test rows, AUC for "not `normal`" (e.g. malignant):
    the VAE trained on the normal training rows only, and logistic regression trained on every training
    row with its label. Returns the AUCs, the ROC curves (fpr, tpr) and the scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if schema.target is None or schema.categorical != (schema.target,):
        raise ValueError("compare_with_supervised needs numeric features and one categorical target column")
    features = Schema(numeric=schema.numeric, categorical=())
    y_train = (train[schema.target].astype(object) != normal).to_numpy()        # True = anomaly
    y_test = (test[schema.target].astype(object) != normal).to_numpy()
    if not (~y_train).any():
        raise ValueError(f"no training row has the normal class {normal!r}")
    det = VAEAnomalyDetector(features, steps=steps, seed=seed).fit(train[~y_train])
    gen_score = det.score(test)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(train[list(schema.numeric)].to_numpy(), y_train)
    sup_score = clf.predict_proba(test[list(schema.numeric)].to_numpy())[:, 1]
    out = {"normal_train_rows": int((~y_train).sum()), "test_rows": len(test), "test_anomalies": int(y_test.sum()),
           "steps": len(det.history.steps), "train_s": det.history.seconds, "detector": det}
    for name, s in (("generative", gen_score), ("supervised", sup_score)):
        out[f"{name}_auc"] = float(roc_auc_score(y_test, s))
        out[f"{name}_roc"] = roc_curve(y_test, s)[:2]
        out[f"{name}_scores"] = s
    return out
