"""Assignment 11: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

_VALID = "if mol is None or mol.GetNumAtoms() == 0:        # \"\" parses to an EMPTY molecule, not None"
_RETURN_A = ('    return {"validity": len(valid) / len(samples),\n'
             '            "uniqueness": len(distinct) / len(valid),\n'
             '            "novelty": len(distinct - known) / len(distinct)}')
_FIT = "model.fit(encode(train), train[target].astype(int))"
_SCORES = "scores = model.predict_proba(encode(real_test))[:, 1]                           # P(outcome = 1)"
_STD = "mean, std = train[column].mean(), train[column].std(ddof=0)"
_PAIRS = "distances = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))   # (n, m)"

MISTAKES = {
    # (a) smiles_metrics
    "empty_string_valid": {"cell": "smiles_metrics", "replace": [(_VALID, "if mol is None:")],
                           "expect": "an empty string is not a molecule"},
    "uniqueness_on_raw_strings": {"cell": "smiles_metrics", "replace": [(
        '"uniqueness": len(distinct) / len(valid),',
        '"uniqueness": len({s for s in samples if canonical(s) is not None}) / len(valid),')],
        "expect": "not distinct strings"},
    "training_not_canonicalised": {"cell": "smiles_metrics", "replace": [(
        "known = {c for c in map(canonical, training) if c is not None}", "known = set(training)")],
        "expect": "canonicalise the training set"},
    "novelty_over_all_samples": {"cell": "smiles_metrics", "replace": [(
        '"novelty": len(distinct - known) / len(distinct)}', '"novelty": len(distinct - known) / len(samples)}')],
        "expect": "not by all samples"},
    "novelty_over_valid_samples": {"cell": "smiles_metrics", "replace": [(
        '"novelty": len(distinct - known) / len(distinct)}', '"novelty": sum(c not in known for c in valid) / len(valid)}')],
        "expect": "not every valid sample"},
    "uniqueness_over_all_samples": {"cell": "smiles_metrics", "replace": [(
        '"uniqueness": len(distinct) / len(valid),', '"uniqueness": len(distinct) / len(samples),')],
        "expect": "not all samples"},
    "no_valid_divides_by_zero": {"cell": "smiles_metrics", "replace": [(
        '    if not valid:\n        return {"validity": 0.0, "uniqueness": 0.0, "novelty": 0.0}\n', "")],
        "expect": "no valid sample"},
    "empty_samples_accepted": {"cell": "smiles_metrics", "replace": [(
        "    if not samples:\n        raise ValueError", "    if False:\n        raise ValueError")],
        "expect": "empty sample list"},
    "smiles_metrics_imports_library": {"cell": "smiles_metrics", "code": (
        "def smiles_metrics(samples, training):\n"
        "    from course_lib.chem import metrics\n"
        "    return {'validity': metrics.validity(samples), 'uniqueness': metrics.uniqueness(samples),\n"
        "            'novelty': metrics.novelty(samples, training)}"), "expect": "course_lib"},
    "tstr_auc_imports_library": {"cell": "tstr_auc", "code": (
        "def tstr_auc(synthetic, real_train, real_test, target):\n"
        "    from course_lib.tabular import Schema\n"
        "    from course_lib.tabular import evaluate\n"
        "    schema = Schema.infer(real_train, target=target)\n"
        "    scores = evaluate.utility(real_train, real_test, synthetic, schema)\n"
        "    return scores['tstr_auc'], scores['trtr_auc']"), "expect": "course_lib"},
    # (b) tstr_auc
    "tstr_tested_on_synthetic": {"cell": "tstr_auc", "replace": [(
        "    def auc_on_real_test(train):", "    def auc_on_real_test(train, test=real_test):"),
        (_SCORES, "scores = model.predict_proba(encode(test))[:, 1]"),
        ("roc_auc_score(real_test[target].astype(int), scores)", "roc_auc_score(test[target].astype(int), scores)"),
        ("return auc_on_real_test(synthetic), auc_on_real_test(real_train)",
         "return auc_on_real_test(synthetic, synthetic), auc_on_real_test(real_train)")],
        "expect": "not on the synthetic table"},
    "hard_labels": {"cell": "tstr_auc", "replace": [(_SCORES, "scores = model.predict(encode(real_test))")],
                    "expect": "not predict's hard labels"},
    "target_among_features": {"cell": "tstr_auc", "replace": [(
        "features = [c for c in real_train.columns if c != target]", "features = list(real_train.columns)")],
        "expect": "the target column is among the features"},
    "wrong_proba_column": {"cell": "tstr_auc", "replace": [(_SCORES, "scores = model.predict_proba(encode(real_test))[:, 0]")],
                           "expect": "not column 0"},
    "encoders_fit_separately": {"cell": "tstr_auc", "replace": [(
        "return onehot.reindex(columns=columns, fill_value=0.0)", "return onehot")],
        "expect": "same one-hot columns"},
    "target_encoded_with_the_tables": {"cell": "tstr_auc", "code": (
        "def tstr_auc(synthetic, real_train, real_test, target):\n"
        "    for name, table in (('synthetic', synthetic), ('real_train', real_train), ('real_test', real_test)):\n"
        "        if target not in table.columns:\n"
        "            raise ValueError(f'{name} has no column {target!r}')\n"
        "    # one encoding for all three tables: concatenate, one-hot every non-numeric column, split again\n"
        "    both = pd.get_dummies(pd.concat([synthetic, real_train, real_test], keys=['s', 'r', 't']), dtype=float)\n"
        "    parts = [both.loc[k] for k in ('s', 'r', 't')]\n"
        "    X = [p.drop(columns=target) for p in parts]\n"
        "    y = [p[target].astype(int) for p in parts]\n"
        "    out = []\n"
        "    for i in (0, 1):\n"
        "        model = HistGradientBoostingClassifier(random_state=0).fit(X[i], y[i])\n"
        "        out.append(roc_auc_score(y[2], model.predict_proba(X[2])[:, 1]))\n"
        "    return tuple(out)"), "expect": "never encode it as a feature"},
    "trtr_tested_on_train": {"cell": "tstr_auc", "replace": [(
        "    def auc_on_real_test(train):", "    def auc_on_real_test(train, test=real_test):"),
        (_SCORES, "scores = model.predict_proba(encode(test))[:, 1]"),
        ("roc_auc_score(real_test[target].astype(int), scores)", "roc_auc_score(test[target].astype(int), scores)"),
        ("return auc_on_real_test(synthetic), auc_on_real_test(real_train)",
         "return auc_on_real_test(synthetic), auc_on_real_test(real_train, real_train)")],
        "expect": "not on real_train"},
    "no_target_check": {"cell": "tstr_auc", "replace": [(
        "        if target not in table.columns:\n            raise ValueError", "        if False:\n            raise ValueError")],
        "expect": "without the target column"},
    # (c) closest_record_distances and privacy_risk
    "not_standardized": {"cell": "closest_record_distances", "replace": [(
        "parts.append(((values - mean) / (std if std > 0 else 1.0))[:, None])", "parts.append(values[:, None])")],
        "expect": "standardize the numeric columns"},
    "pandas_std_ddof1": {"cell": "closest_record_distances", "replace": [(_STD, "mean, std = train[column].mean(), train[column].std()")],
                         "expect": "ddof=0"},
    "records_own_statistics": {"cell": "closest_record_distances", "replace": [(
        _STD, "mean, std = table[column].mean(), table[column].std(ddof=0)")], "expect": "not the records'"},
    "squared_distance": {"cell": "closest_record_distances", "replace": [(_PAIRS, "distances = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)")],
                         "expect": "not the squared one"},
    "farthest_record": {"cell": "closest_record_distances", "replace": [("return distances.min(axis=1)", "return distances.max(axis=1)")],
                        "expect": "not the farthest"},
    "mean_distance": {"cell": "closest_record_distances", "replace": [("return distances.min(axis=1)", "return distances.mean(axis=1)")],
                      "expect": "not the mean over rows"},
    "constant_column_divides_by_zero": {"cell": "closest_record_distances", "replace": [(
        "(std if std > 0 else 1.0)", "std")], "expect": "constant in train"},
    "categories_from_all_tables": {"cell": "closest_record_distances", "replace": [(
        "categories = pd.unique(train[column].astype(object))",
        "categories = pd.unique(pd.concat([train[column], records[column], reference[column]]).astype(object))")],
        "expect": "train's categories only"},
    "no_column_check": {"cell": "closest_record_distances", "replace": [(
        "        if missing:\n            raise ValueError", "        if False:\n            raise ValueError")],
        "expect": "naming it"},
    "ties_counted_as_risky": {"cell": "closest_record_distances", "replace": [(
        "np.mean(synthetic_dcr < threshold)", "np.mean(synthetic_dcr <= threshold)")], "expect": "not <="},
    "percentile_as_fraction": {"cell": "closest_record_distances", "replace": [(
        "np.percentile(holdout_dcr, 5)", "np.percentile(holdout_dcr, 0.05)")], "expect": "not np.percentile(d, 0.05)"},
    "count_not_share": {"cell": "closest_record_distances", "replace": [(
        "float(np.mean(synthetic_dcr < threshold))", "int(np.sum(synthetic_dcr < threshold))")], "expect": "not their count"},
    "holdout_measured_to_itself": {"cell": "closest_record_distances", "replace": [(
        "holdout_dcr = closest_record_distances(holdout, train, train)", "holdout_dcr = closest_record_distances(holdout, holdout, train)")],
        "expect": "not to the holdout table"},
    "synthetic_measured_to_holdout": {"cell": "closest_record_distances", "replace": [(
        "synthetic_dcr = closest_record_distances(synthetic, train, train)",
        "synthetic_dcr = closest_record_distances(synthetic, holdout, train)")], "expect": "not to the holdout table"},
}

HONEST = {
    "smiles_counter": {"cell": "smiles_metrics", "code": """
from collections import Counter

def smiles_metrics(samples, training):
    samples = list(samples)
    if len(samples) == 0:
        raise ValueError("need at least one sample")
    counts = Counter()
    for s in samples:
        m = Chem.MolFromSmiles(s)
        if m is not None and m.GetNumAtoms() > 0:
            counts[Chem.MolToSmiles(m)] += 1
    n_valid = sum(counts.values())
    train_set = set()
    for s in training:
        m = Chem.MolFromSmiles(s)
        if m is not None and m.GetNumAtoms() > 0:
            train_set.add(Chem.MolToSmiles(m))
    validity = n_valid / len(samples)
    uniqueness = len(counts) / n_valid if n_valid else 0.0
    novelty = sum(1 for c in counts if c not in train_set) / len(counts) if counts else 0.0
    return {"validity": validity, "uniqueness": uniqueness, "novelty": novelty}
"""},
    "smiles_pandas": {"cell": "smiles_metrics", "code": """
def _canon(s):
    mol = Chem.MolFromSmiles(s)
    return Chem.MolToSmiles(mol) if mol is not None and mol.GetNumAtoms() else None

def smiles_metrics(samples, training):
    canon = pd.Series([_canon(s) for s in samples], dtype=object)
    if canon.empty:
        raise ValueError(f"expected a non-empty list of SMILES, got {samples!r}")
    valid = canon.dropna()
    if valid.empty:
        return dict(validity=0.0, uniqueness=0.0, novelty=0.0)
    unique = valid.unique()
    train = {c for c in (_canon(s) for s in training) if c}
    return dict(validity=float(canon.notna().mean()), uniqueness=len(unique) / len(valid),
                novelty=float(np.mean([u not in train for u in unique])))
"""},
    "tstr_onehotencoder": {"cell": "tstr_auc", "code": """
from sklearn.preprocessing import OneHotEncoder

def tstr_auc(synthetic, real_train, real_test, target):
    for name, df in {"synthetic": synthetic, "real_train": real_train, "real_test": real_test}.items():
        if target not in df:
            raise ValueError(f"the {name} table has no '{target}' column")
    cols = real_train.columns.drop(target)
    cat = [c for c in cols if not pd.api.types.is_numeric_dtype(real_train[c])]
    num = [c for c in cols if c not in cat]
    enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(real_train[cat].astype(str))
    def X(df):
        return np.hstack([df[num].to_numpy(dtype=float), enc.transform(df[cat].astype(str))])
    y_test = real_test[target].astype(int).to_numpy()
    results = []
    for train in (synthetic, real_train):
        clf = HistGradientBoostingClassifier(random_state=0).fit(X(train), train[target].astype(int).to_numpy())
        pos = list(clf.classes_).index(1)
        results.append(float(roc_auc_score(y_test, clf.predict_proba(X(real_test))[:, pos])))
    return tuple(results)
"""},
    "tstr_dummies_concat_features": {"cell": "tstr_auc", "code": """
def tstr_auc(synthetic, real_train, real_test, target):
    tables = [synthetic, real_train, real_test]
    for label, t in zip(["synthetic", "real_train", "real_test"], tables):
        if target not in t.columns:
            raise ValueError(label + " is missing the target column " + repr(target))
    feats = [t.drop(columns=[target]) for t in tables]
    cats = [c for c in feats[1].columns if not pd.api.types.is_numeric_dtype(feats[1][c])]
    reference = pd.get_dummies(feats[1], columns=cats)
    enc = [pd.get_dummies(f, columns=cats).reindex(columns=reference.columns, fill_value=0) for f in feats]
    ys = [t[target].astype(float).round().astype(int) for t in tables]
    tstr_model = HistGradientBoostingClassifier(random_state=0).fit(enc[0], ys[0])
    trtr_model = HistGradientBoostingClassifier(random_state=0).fit(enc[1], ys[1])
    tstr = roc_auc_score(ys[2], tstr_model.predict_proba(enc[2])[:, 1])
    trtr = roc_auc_score(ys[2], trtr_model.predict_proba(enc[2])[:, 1])
    return tstr, trtr
"""},
    "dcr_cdist_sklearn": {"cell": "closest_record_distances", "code": """
from scipy.spatial.distance import cdist

def _encode(df, train):
    cols = []
    for name in train.columns:
        if name not in df.columns:
            raise ValueError(f"column {name!r} of train is missing")
        col = train[name]
        if pd.api.types.is_numeric_dtype(col):
            sd = col.std(ddof=0)
            cols.append(((df[name] - col.mean()) / (sd if sd != 0 else 1)).to_numpy(float).reshape(-1, 1))
        else:
            for level in col.unique():
                cols.append((df[name] == level).to_numpy(float).reshape(-1, 1))
    return np.concatenate(cols, axis=1)

def closest_record_distances(records, reference, train):
    return cdist(_encode(records, train), _encode(reference, train)).min(axis=1)

def privacy_risk(synthetic, train, holdout):
    cut = np.percentile(closest_record_distances(holdout, train, train), 5)
    return float((closest_record_distances(synthetic, train, train) < cut).mean())
"""},
    "dcr_nearest_neighbors": {"cell": "closest_record_distances", "code": """
from sklearn.neighbors import NearestNeighbors

def closest_record_distances(records, reference, train):
    missing = set(train.columns) - set(records.columns) | set(train.columns) - set(reference.columns)
    if missing:
        raise ValueError(f"records/reference lack {sorted(missing)}")
    numeric = [c for c in train.columns if pd.api.types.is_numeric_dtype(train[c])]
    other = [c for c in train.columns if c not in numeric]
    mu = train[numeric].mean()
    sigma = train[numeric].std(ddof=0).replace(0, 1)
    def prep(df):
        z = ((df[numeric] - mu) / sigma).astype(float)
        hot = [pd.DataFrame({f"{c}={v}": (df[c].astype(object) == v).astype(float) for v in train[c].astype(object).unique()})
               for c in other]
        return pd.concat([z.reset_index(drop=True)] + [h.reset_index(drop=True) for h in hot], axis=1).to_numpy()
    nn = NearestNeighbors(n_neighbors=1).fit(prep(reference))
    return nn.kneighbors(prep(records))[0][:, 0]

def privacy_risk(synthetic, train, holdout):
    threshold = np.percentile(closest_record_distances(holdout, train, train), 5)
    d = closest_record_distances(synthetic, train, train)
    return np.count_nonzero(d < threshold) / len(d)
"""},
}
