"""How good is a generative model? Likelihood (bits/dim), mode coverage, Fréchet distance on digits.

    from course_lib import metrics
    metrics.bits_per_dim(nll_nats, num_dims=64)
    metrics.mode_coverage(samples, toy.modes, toy.std)
    metrics.digit_frechet_distance(generated, real)
    metrics.digit_precision_recall(real, generated)        # realistic? varied? (two numbers)
    metrics.wilson(k, n)                                   # 95% interval of a proportion k/n
"""
from .classifier import DigitClassifier, load_classifier
from .intervals import wilson
from .frechet import (classify_digits, digit_features, digit_frechet_distance, frechet_distance,
                      gaussian_frechet_distance)
from .likelihood import (bits_per_dim, dequantized_nll, gaussian_nll, nats_to_bits, nll, perplexity)
from .modes import ModeCoverage, mode_coverage
from .precision_recall import PrecisionRecall, digit_precision_recall, precision_recall

__all__ = ["bits_per_dim", "nats_to_bits", "nll", "perplexity", "gaussian_nll", "dequantized_nll",
           "mode_coverage", "ModeCoverage", "frechet_distance", "gaussian_frechet_distance",
           "digit_features", "classify_digits", "digit_frechet_distance", "DigitClassifier",
           "load_classifier", "precision_recall", "digit_precision_recall", "PrecisionRecall", "wilson"]
