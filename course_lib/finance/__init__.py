"""Generative AI in finance (notebook 12).

rare (rare events: SMOTE by hand, imbalanced-learn's SMOTE, class weights and oversampling with the
course's tabular VAE, compared on PR-AUC and recall at a fixed false-positive rate with bootstrap intervals).
"""
