"""course_lib.chem, the molecules dataset, SmilesTokenizer and recipes.smiles: known molecules with answers
that can be checked by hand, round trips, the scaffold split, a tiny model, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("rdkit")

from rdkit import Chem, DataStructs  # noqa: E402
from rdkit.Chem import rdFingerprintGenerator  # noqa: E402

from course_lib import data  # noqa: E402
from course_lib.chem import augment, clean, metrics, scaffolds  # noqa: E402
from course_lib.chem.draw import grid  # noqa: E402
from course_lib.data.molecules import cleaning_report  # noqa: E402
from course_lib.tokenizers import SmilesTokenizer, tokenizer_from_meta  # noqa: E402

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
BENZENE, TOLUENE, ETHANOL = "c1ccccc1", "Cc1ccccc1", "CCO"


@pytest.fixture(scope="module")
def molecules():
    return {split: data.load("molecules", split=split) for split in ("train", "val", "test")}


# ----------------------------------------------------------------------------- cleaning and the dataset

def test_clean_smiles_counts_every_step_as_the_docstring_says():
    kept, rep = clean.clean_smiles(["CCCCO.Cl", "CCCC[NH3+]", "[Na+].[Cl-]", "OCCCC", "C1CC", "CCCC[Si](C)(C)C",
                                    "C" * 50])
    assert kept == ["CCCCO", "CCCCN"]           # salt stripped, charge neutralised, duplicate (OCCCC) removed
    assert (rep.read, rep.unparsable, rep.parsed, rep.fragment_stripped) == (7, 1, 6, 2)
    assert (rep.neutralised, rep.other_elements, rep.too_small, rep.too_large, rep.duplicates, rep.kept) == \
           (2, 1, 1, 1, 1, 2)


def test_clean_smiles_rejects_a_single_string_and_non_strings():
    with pytest.raises(TypeError, match="single str"):
        clean.clean_smiles("CCO")
    with pytest.raises(TypeError, match="must be strings"):
        clean.clean_smiles(["CCO", 3])


def test_the_dataset_is_canonical_unique_and_its_report_adds_up(molecules):
    report, sizes = cleaning_report()
    assert report.read == 14_999 and report.kept == sum(sizes.values()) == len(data.load("molecules", split="all"))
    assert report.parsed == report.read - report.unparsable
    assert report.kept == report.parsed - report.other_elements - report.too_small - report.too_large - report.duplicates
    everything = data.load("molecules", split="all")
    assert len(set(everything)) == len(everything) > 14_000
    for s in everything[::500]:
        assert clean.canonical(s) == s
    assert data.info("molecules").kind == "molecules" and "BSD" in data.info("molecules").license
    with pytest.raises(ValueError, match="splits"):
        data.load("molecules", split="holdout")


def test_no_scaffold_is_in_two_splits_and_the_big_ones_are_in_train(molecules):
    scafs = {k: {scaffolds.murcko_scaffold(s) for s in v} for k, v in molecules.items()}
    assert not scafs["train"] & scafs["val"] and not scafs["train"] & scafs["test"] and not scafs["val"] & scafs["test"]
    assert {"c1ccccc1", ""} <= scafs["train"]
    n = sum(map(len, molecules.values()))
    assert 0.7 < len(molecules["train"]) / n < 0.9 and len(molecules["test"]) > 1000


def test_scaffold_split_is_deterministic_and_checks_its_arguments():
    smiles = [ASPIRIN, TOLUENE, CAFFEINE, ETHANOL, "c1ccncc1", "C1CCCCC1O"]
    a, b = scaffolds.scaffold_split(smiles, big=1.0), scaffolds.scaffold_split(list(smiles), big=1.0)
    assert a == b and sorted(sum(a.values(), [])) == sorted(smiles)
    where = {s: k for k, v in a.items() for s in v}
    assert where[ASPIRIN] == where[TOLUENE]                  # both have the benzene scaffold
    assert scaffolds.scaffold_split(smiles, big=0.3)["train"][:2] == [ASPIRIN, TOLUENE]   # 2 of 6 > 30%: train
    with pytest.raises(ValueError, match="fractions"):
        scaffolds.scaffold_split(smiles, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="one scaffold per SMILES"):
        scaffolds.scaffold_split(smiles, scaffolds=["c1ccccc1"])


def test_murcko_scaffolds_of_known_molecules():
    assert scaffolds.murcko_scaffold(ASPIRIN) == BENZENE
    assert scaffolds.murcko_scaffold(ETHANOL) == ""
    assert scaffolds.murcko_scaffold("c1ccccc1Cc1ccncc1") == "c1ccc(Cc2ccncc2)cc1"   # linker kept
    with pytest.raises(ValueError, match="valid SMILES"):
        scaffolds.murcko_scaffold("C1CC")


# ----------------------------------------------------------------------------- randomized SMILES

def test_every_randomized_smiles_is_the_same_molecule_and_the_seed_fixes_them(molecules):
    some = molecules["train"][:200]
    spelled = augment.randomize_all(some, seed=3, n=2)
    assert len(spelled) == 400
    assert [clean.canonical(s) for s in spelled] == [s for s in some for _ in range(2)]
    assert augment.randomize_all(some, seed=3, n=2) == spelled
    assert augment.randomize_all(some, seed=4, n=2) != spelled
    assert sum(a != b for a, b in zip(spelled, [s for s in some for _ in range(2)])) > 300   # mostly not canonical
    assert len(set(augment.randomize_all([ASPIRIN], seed=0, n=10))) >= 5


def test_randomized_smiles_bad_input():
    with pytest.raises(TypeError, match="numpy Generator"):
        augment.randomized_smiles(ASPIRIN, 0)
    with pytest.raises(ValueError, match="valid SMILES"):
        augment.randomized_smiles("C1CC", np.random.default_rng(0))
    with pytest.raises(TypeError, match="single str"):
        augment.randomize_all(ASPIRIN)


# ----------------------------------------------------------------------------- tokenizer

def test_tokenizer_keeps_two_letter_atoms_and_bracket_atoms_whole():
    assert SmilesTokenizer.split("ClCc1cc[nH]c1Br") == ["Cl", "C", "c", "1", "c", "c", "[nH]", "c", "1", "Br"]
    assert SmilesTokenizer.split("O=[N+]([O-])c1ccccc1") == ["O", "=", "[N+]", "(", "[O-]", ")", "c", "1", "c", "c",
                                                              "c", "c", "c", "1"]
    assert SmilesTokenizer.split("C%12CC%12") == ["C", "%12", "C", "C", "%12"]
    with pytest.raises(ValueError, match="position 2: 'X'"):
        SmilesTokenizer.split("CCX")


def test_tokenizer_round_trip_with_boundaries_and_persistence(molecules, tmp_path):
    tok = SmilesTokenizer.from_smiles(molecules["train"])
    assert [tok.itos[i] for i in range(3)] == ["<pad>", "<bos>", "<eos>"]
    for s in molecules["test"][:300]:
        try:
            ids = tok.encode(s, bos=True, eos=True)
        except ValueError:
            continue                                               # a test-only bracket atom
        assert ids[0] == tok.BOS and ids[-1] == tok.EOS and tok.decode(ids) == s
    assert tok.decode([tok.BOS] + tok.encode("CCO") + [tok.EOS] + tok.encode("CC")) == "CCO"   # stops at <eos>
    assert SmilesTokenizer.load(tok.save(tmp_path / "tok.json")) == tok
    assert tokenizer_from_meta({"tokenizer": {"type": "smiles", "tokens": list(tok.stoi)}}) == tok
    with pytest.raises(ValueError, match="not in the vocabulary"):
        SmilesTokenizer.from_smiles(["CCO"]).encode("CCCl")


# ----------------------------------------------------------------------------- metrics on known molecules

def test_validity_uniqueness_novelty_by_hand():
    assert metrics.validity(["CCO", "C1CC", "", "c1ccccc1"]) == 0.5      # an unclosed ring and "" are invalid
    assert metrics.uniqueness(["OCC", "CCO"]) == 0.5                      # one molecule, two spellings
    assert metrics.uniqueness(["CCO", "OCC", BENZENE, "xx"]) == pytest.approx(2 / 3)
    assert metrics.novelty(["OCC", "C1=CC=CC=C1", BENZENE], train=["CCO"]) == 0.5   # benzene new, ethanol not
    assert math.isnan(metrics.uniqueness(["xx", ""]))


def test_internal_diversity_and_snn_match_rdkits_own_tanimoto():
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    a, c = (gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in (ASPIRIN, CAFFEINE))
    sim = DataStructs.TanimotoSimilarity(a, c)
    assert 0 < sim < 0.5
    mols = metrics.parse([ASPIRIN, CAFFEINE])
    assert metrics.internal_diversity(mols) == pytest.approx(1 - sim, abs=1e-6)
    assert metrics.internal_diversity(metrics.parse([ASPIRIN, ASPIRIN])) == pytest.approx(0.0)
    ref = metrics.fingerprints(metrics.parse([CAFFEINE, BENZENE]))
    assert metrics.nearest_neighbour_similarity(metrics.parse([CAFFEINE]), ref) == pytest.approx(1.0)
    assert metrics.nearest_neighbour_similarity(metrics.parse([ASPIRIN]), ref[:1]) == pytest.approx(sim, abs=1e-6)


def test_scaffold_similarity_properties_and_sa_of_known_molecules():
    benzene_ring = metrics.scaffold_counts(metrics.parse([ASPIRIN, TOLUENE]))
    assert benzene_ring == {BENZENE: 2}
    assert metrics.cosine_similarity(benzene_ring, metrics.scaffold_counts(metrics.parse(["OC(=O)c1ccccc1"]))) == 1.0
    assert metrics.cosine_similarity(benzene_ring, metrics.scaffold_counts(metrics.parse([CAFFEINE]))) == 0.0
    props = metrics.properties(metrics.parse([BENZENE, TOLUENE, ASPIRIN]))
    assert props["MW"][1] - props["MW"][0] == pytest.approx(14.027, abs=1e-3)       # one CH2
    assert props["MW"][2] == pytest.approx(180.159, abs=1e-3)                       # C9H8O4
    assert props["TPSA"][0] == 0.0 and props["TPSA"][2] == pytest.approx(63.6, abs=0.05)
    assert props["QED"][2] == pytest.approx(0.55, abs=0.01)                         # Bickerton et al.'s aspirin
    assert 1 <= props["SA"][0] < props["SA"][2] < 3                                # easy molecules score low
    hard = metrics.sa_score(Chem.MolFromSmiles("CC1(C)C2CCC3(C)C(CC=C4CC(O)CCC43C)C2CC1O"))
    assert hard > props["SA"][2]


def test_evaluate_counts_invalid_samples_and_gives_zero_distances_for_the_reference_itself():
    ref = [ASPIRIN, CAFFEINE, TOLUENE, "OC(=O)c1ccccc1", "CCN(CC)CC", "c1ccncc1O"]
    with pytest.warns(UserWarning, match="singular"):         # 6 molecules, 12 descriptors: said, not hidden
        out = metrics.evaluate(ref + ["C1CC", "", "not a molecule"], train=[TOLUENE], reference=ref)
    assert out["samples"] == 9 and out["valid"] == 6 and out["validity"] == pytest.approx(6 / 9)
    assert out["uniqueness"] == 1.0 and out["novelty"] == pytest.approx(5 / 6)
    assert out["snn"] == pytest.approx(1.0) and out["scaffold_sim"] == pytest.approx(1.0)
    for k in ("w1_MW", "w1_logP", "w1_TPSA", "w1_QED", "frechet_descriptor_distance"):
        assert out[k] == pytest.approx(0.0, abs=1e-6), k
    with pytest.warns(UserWarning, match="singular"):
        shifted = metrics.evaluate([s + "C" if s.endswith("C") else s for s in ref], train=[TOLUENE], reference=ref)
    assert shifted["w1_MW"] > 1 and shifted["frechet_descriptor_distance"] > 0.01
    none = metrics.evaluate(["", "C1CC"], train=[TOLUENE], reference=ref)
    assert none["validity"] == 0.0 and math.isnan(none["intdiv1"]) and math.isnan(none["w1_QED"])


def test_evaluate_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="samples is empty"):
        metrics.evaluate([], train=[ETHANOL], reference=[BENZENE])
    with pytest.raises(TypeError, match="list of SMILES"):
        metrics.evaluate(ASPIRIN, train=[ETHANOL], reference=[BENZENE])
    with pytest.raises(TypeError, match="must hold strings"):
        metrics.validity(["CCO", None])
    with pytest.raises(ValueError, match="reference has no valid SMILES"):
        metrics.evaluate([ETHANOL], train=[ETHANOL], reference=["C1CC"])


def test_grid_draws_valid_molecules_with_qed_legends():
    img = grid([ASPIRIN, "C1CC", CAFFEINE], per_row=2, size=100)
    assert img.size == (200, 100)                              # two valid molecules, the invalid one skipped
    with pytest.raises(ValueError, match="no valid SMILES"):
        grid(["C1CC", ""])
    with pytest.raises(ValueError, match="one legend per molecule"):
        grid([ASPIRIN, CAFFEINE], legends=["only one"])


# ----------------------------------------------------------------------------- recipe: batches, training, sampling

TINY = dict(n_layer=1, n_head=2, n_embd=32, batch_size=8)        # the default context: every molecule fits


def test_batches_start_at_bos_end_at_eos_and_pad_the_targets_with_minus_one():
    from course_lib.recipes.smiles import smiles_batches
    smiles = [ETHANOL + "CC", ASPIRIN, TOLUENE]
    tok = SmilesTokenizer.from_smiles(smiles)
    x, y = smiles_batches(smiles, tok, batch_size=16, block_size=40, seed=0, augment=False)()
    assert x.shape == y.shape and x.dtype == torch.long and x.shape[1] == len(tok.split(ASPIRIN)) + 1
    assert (x[:, 0] == tok.BOS).all()
    for xr, yr in zip(x, y):
        n = int((yr != -1).sum())                                       # tokens of this molecule + <eos>
        assert yr[n - 1] == tok.EOS and (yr[n:] == -1).all() and (xr[n:] == tok.PAD).all()
        assert torch.equal(xr[1:n], yr[:n - 1])                         # y is x shifted by one
        assert tok.decode(xr) in smiles
    xa, _ = smiles_batches(smiles, tok, batch_size=16, block_size=40, seed=0, augment=True)()
    spelled = [tok.decode(r) for r in xa]
    assert {clean.canonical(s) for s in spelled} <= set(smiles) and set(spelled) - set(smiles)   # other spellings


def test_batches_bad_input():
    from course_lib.recipes.smiles import smiles_batches
    tok = SmilesTokenizer.from_smiles([ASPIRIN])
    with pytest.raises(ValueError, match="RDKit cannot parse 'C1CC'"):
        smiles_batches([ASPIRIN, "C1CC"], tok, 4, 40)
    with pytest.raises(ValueError, match="more than block_size=8"):
        smiles_batches([ASPIRIN], tok, 4, 8)
    with pytest.raises(ValueError, match="empty"):
        smiles_batches([], tok, 4, 40)


def test_tiny_smiles_gpt_trains_and_samples_reproducibly(molecules):
    from course_lib.recipes.smiles import sample_smiles, train_smiles_gpt
    model, tok, hist = train_smiles_gpt(molecules["train"][:300], steps=12, seed=0, **TINY)
    assert len(hist.loss) == 12 and hist.loss[-1] < hist.loss[0] and not model.training
    out = sample_smiles(model, tok, 7, temperature=1.0, seed=1, batch=3)
    assert len(out) == 7 and all(isinstance(s, str) for s in out)
    assert sample_smiles(model, tok, 7, temperature=1.0, seed=1, batch=3) == out
    assert all("<" not in s for s in out)                               # special tokens never in a SMILES
    greedy = sample_smiles(model, tok, 2, temperature=0.0)
    assert greedy[0] == greedy[1]
    with pytest.raises(ValueError, match="n must be a positive int"):
        sample_smiles(model, tok, 0)
    with pytest.raises(ValueError, match="pass the tokenizer the model was trained with"):
        sample_smiles(model, SmilesTokenizer.from_smiles(["CCO"]), 2)


def test_train_smiles_gpt_bad_input():
    from course_lib.recipes.smiles import train_smiles_gpt
    with pytest.raises(TypeError, match="unknown option"):
        train_smiles_gpt([ASPIRIN], steps=1, width=3)
    with pytest.raises(ValueError, match="budget"):
        train_smiles_gpt([ASPIRIN])
    with pytest.raises(TypeError, match="list of SMILES"):
        train_smiles_gpt(ASPIRIN, steps=1)


def test_hill_climb_reports_every_round_and_fine_tunes_towards_the_score(molecules):
    from course_lib.recipes.smiles import hill_climb, train_smiles_gpt
    model, tok, _ = train_smiles_gpt(molecules["train"][:300], steps=40, seed=0, **TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seen = []

    def longest(smiles):                                    # a score anyone can check: the SMILES length
        seen.append(list(smiles))
        return [len(s) for s in smiles]
    hist = hill_climb(model, tok, molecules["train"][:300], longest, rounds=2, samples_per_round=40,
                      keep_top=5, steps_per_round=3, seed=0)
    assert [h["round"] for h in hist] == [0, 1, 2]
    assert set(hist[0]) >= {"validity", "uniqueness", "mean_score", "mean_qed", "intdiv1", "best_score"}
    assert all(s == clean.canonical(s) for batch in seen for s in batch)   # scored: distinct valid canonical
    assert hist[2]["best_score"] >= hist[0]["best_score"] == max(map(len, seen[0]))
    assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="keep_top must be a positive int"):
        hill_climb(model, tok, molecules["train"][:30], keep_top=0)


# ----------------------------------------------------------------------------- the zoo's smiles-gpt

@pytest.mark.filterwarnings("ignore:only .* samples for .* features")     # 20 steps: few valid samples
def test_the_training_script_trains_and_checks_the_smiles_entry(tmp_path, monkeypatch):
    """scripts/train_pretrained.py's smiles-gpt entry through `genai-course train gpt --dataset molecules`, 20 steps:
    a float16 file, the zoo's loader and tokenizer, and the check figures rerun on the shipped file."""
    import importlib.util
    import pathlib
    from course_lib import pretrained
    from course_lib.pretrained import registry
    root = pathlib.Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("train_pretrained", root / "scripts" / "train_pretrained.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(registry, "weights_dir", lambda: tmp_path)
    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))
    from course_lib.pretrained import evaluate_smiles
    monkeypatch.setattr(evaluate_smiles, "N_FULL", 60)                  # seconds, not the zoo's 2,000 samples
    threads = torch.get_num_threads()
    try:
        entry, row = script.train_one("smiles-gpt", script.RECIPES["smiles-gpt"], tmp_path, steps=20)
    finally:
        torch.set_num_threads(threads)
    assert entry["training"]["command"].startswith("genai-course train gpt --dataset molecules --steps 20 --seed 0")
    assert entry["family"] == "gpt" and "BSD" in entry["data_licence"] and entry["training"]["steps"] == 20
    assert {"validity", "uniqueness", "novelty", "intdiv1", "heldout_loss_nats_per_token"} <= set(entry["metrics"])
    again = pretrained.evaluate("smiles-gpt", "check")
    assert again["valid_of_100"]["value"] == entry["check"]["valid_of_100"]["value"]
    assert again["heldout_loss_nats_per_token"]["value"] == pytest.approx(
        entry["check"]["heldout_loss_nats_per_token"]["value"], rel=1e-3)
    tok = pretrained.tokenizer("smiles-gpt")
    assert isinstance(tok, SmilesTokenizer) and pretrained.load("smiles-gpt", device="cpu").config.vocab_size == tok.vocab_size


def test_the_shipped_smiles_gpt_writes_mostly_valid_new_molecules(molecules):
    """What notebook 11 does with the zoo's model: sample at its recorded temperature and score the samples."""
    from course_lib import pretrained
    from course_lib.recipes.smiles import sample_smiles
    model, tok = pretrained.load("smiles-gpt", device="cpu"), pretrained.tokenizer("smiles-gpt")
    assert tok == SmilesTokenizer.from_smiles(molecules["train"])     # a fast-mode stand-in gets the same ids
    temperature = pretrained.checkpoint("smiles-gpt")["meta"]["temperature"]
    samples = sample_smiles(model, tok, 300, temperature=temperature, seed=5)
    assert metrics.validity(samples) > 0.65                  # recorded: 80% of 2,000 at T=0.7
    assert metrics.uniqueness(samples) > 0.9 and metrics.novelty(samples, molecules["train"]) > 0.8
