"""Generative AI in education (notebook 13): a miniature tutor for multi-digit addition, measured promise by promise.

- `arithmetic`  the task itself: column-by-column steps with carries, the three text formats a model reads and
                writes (plain, reversed, scratchpad), parsing, the exact solver and verifier
- `practice`    practice items written by a model from a difficulty control code (digits, carries), verified by
                the solver before release
- `bugs`        a bug library of misconceptions (forgetting to carry, carrying twice, ...) that writes buggy
                worked solutions (tutor helper)
- `feedback`    locate the first wrong step in a student's work, name the misconception, write a hint (tutor helper)
- `learner`     a learner model (Elo) that picks the next item, and simulated learners to compare it on (tutor helper)
"""
