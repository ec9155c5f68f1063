"""Ethics of generative AI (notebooks 14 and 15): each claim measured on the course's own models.

- `canaries`    memorisation in a language model: the canary format and its randomness space, planting canaries
                in a training text, deduplication, exposure (Carlini et al. 2019) from the rank among candidates, extraction by
                greedy completion and verbatim extraction of training text (longest common substring)
- `membership`  membership inference: the loss-threshold attack on a GPT (membership unit: one line of text),
                ROC AUC and true-positive rate at a low false-positive rate (metrics shared with image attacks)
- `dp`          DP-SGD written by hand (per-example clipping with torch.func, Gaussian noise) and its epsilon
                from an RDP accountant for the subsampled Gaussian mechanism
"""
