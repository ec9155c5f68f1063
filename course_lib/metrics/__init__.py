"""How good is a generative model? Likelihood (bits/dim), mode coverage, Fréchet distance on digits.

    from course_lib import metrics
    metrics.bits_per_dim(nll_nats, num_dims=64)
    metrics.mode_coverage(samples, toy.modes, toy.std)
    metrics.digit_frechet_distance(generated, real)
    metrics.digit_precision_recall(real, generated)        # realistic? varied? (two numbers)
    metrics.wilson(k, n)                                   # 95% interval of a proportion k/n
    metrics.digit_kid(generated, real)                     # kernel inception distance: unbiased, mean and std
    metrics.memorisation_share(samples, train, heldout)    # share of near-copies of training images
    metrics.scorecard(generated)                           # the capstone's every-family scorecard (n = 1000)
    metrics.leaderboard.render(card)                       # ... beside the course's baseline rows
"""
from .classifier import DigitClassifier, load_classifier
from .intervals import wilson
from .frechet import (classify_digits, digit_features, digit_frechet_distance, frechet_distance,
                      gaussian_frechet_distance)
from .likelihood import (bits_per_dim, dequantized_nll, gaussian_nll, nats_to_bits, nll, perplexity)
from .modes import ModeCoverage, mode_coverage
from .precision_recall import PrecisionRecall, digit_precision_recall, precision_recall
from .kid import KID, digit_kid, kid
from .memorisation import memorisation_share
from .scorecard import Scorecard, real_scorecard, scorecard
from . import leaderboard

__all__ = ["bits_per_dim", "nats_to_bits", "nll", "perplexity", "gaussian_nll", "dequantized_nll",
           "mode_coverage", "ModeCoverage", "frechet_distance", "gaussian_frechet_distance",
           "digit_features", "classify_digits", "digit_frechet_distance", "DigitClassifier",
           "load_classifier", "precision_recall", "digit_precision_recall", "PrecisionRecall", "wilson",
           "kid", "digit_kid", "KID", "memorisation_share", "scorecard", "real_scorecard", "Scorecard", "leaderboard"]
