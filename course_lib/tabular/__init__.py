"""Synthetic patients: mixed-type tables, their generative models, and the three ways to judge them.

schema (column types), encoding (table <-> matrix), synthesizers (the course's tabular VAE, a Gaussian
copula, a memoriser: fit(table) then sample(n, seed) -> table), evaluate (fidelity, utility, privacy),
anomaly (a generative model trained on one class flags the other). The VAE's mathematics is in
course_lib.models.tabular_vae; the data in course_lib.data.flchain.
"""
from course_lib.tabular.schema import Schema   # light: course_lib.data imports it; the rest loads on use

__all__ = ["Schema"]
