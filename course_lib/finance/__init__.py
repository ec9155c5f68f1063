"""Generative AI in finance (notebook 12): the library behind the module's two uses of generated data.

- `rare`       rare events: SMOTE by hand, imbalanced-learn's SMOTE, class weights and oversampling with the
               course's tabular VAE, compared on PR-AUC and recall at a fixed false-positive rate with
               bootstrap intervals
- `stylised`   the stylised facts of returns (Cont 2001) with block-bootstrap intervals
- `backtest`   value-at-risk and expected shortfall from scenarios; Kupiec and Christoffersen tests, Basel zones
- `scenarios`  return-path generators behind one interface: Gaussian, block bootstrap, GARCH, GJR-GARCH, GPT
- `strategy`   a moving-average crossover rule, its return and drawdown on real and generated prices
"""
