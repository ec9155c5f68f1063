"""Ethics of generative AI, made measurable (notebooks 14 and 15): each claim tested on the course's own models and data.

- `amplification`    bias amplification: group shares of generated samples against the training shares (names by
                     census sex, digits by class), the amplification ratio and difference with 95% intervals,
                     census groups and frequency-weighted (or reweighted) name mixes, a rare-class digit set
- `rare_class`       a 2% digit class across the VAE, GAN and diffusion families (recipe defaults), judged by the
                     course classifier; balanced conditional sampling as a mitigation
- `stereotype`       a captioned shapes set where circles are usually red (a text-to-image stereotype in
                     miniature) and the colour a generated image shows
- `detect`           deepfake detection of generated digits: a small CNN and a frequency (DCT) detector against
                     real images, quantised to the real grey levels first; cross-generator accuracy; the arms
                     race with a GAN
- `watermark`        provenance for text: the green-list watermark of Kirchenbauer et al. (2023) on a
                     character-level GPT (keyed green lists from the previous characters, a logit bonus when
                     sampling, a z-test whose threshold is calibrated on held-out human text)
- `image_watermark`  provenance for images: a keyed spread-spectrum pattern in a mid-frequency DCT band,
                     detected by correlation against a threshold calibrated on unmarked images
- `licences`         audit the course's training data: source package, its licence from the installed metadata,
                     the stated data licence and what it permits (commercial use, attribution, share-alike)
- `work`             a task-exposure exercise after Eloundou et al. (2023): task statements, the E0/E1/E2 rubric,
                     reference ratings, exposure scores per occupation, agreement and Cohen's kappa with a student
- `canaries`         memorisation in a language model: the canary format and its randomness space, planting
                     canaries in a training text, deduplication, exposure (Carlini et al. 2019) from the rank among
                     candidates, extraction by greedy completion, verbatim extraction (longest common substring)
- `membership`       membership inference: the loss-threshold attack on a GPT (membership unit: one line of text),
                     ROC AUC and true-positive rate at a low false-positive rate (metrics shared with image attacks)
- `copies`           memorisation in image models: nearest-neighbour distances in pixel or digit-classifier feature
                     space, a sample is a near-copy when closer to a training image than the 5th percentile of
                     held-out real images (Carlini et al. 2023; Somepalli et al. 2023), the closest pairs for a figure
- `membership_images` membership inference on images (membership unit: one image): training subsets disjoint
                     from non-members, the course VAE trained on them, the loss-threshold attack with the IWAE
                     bound as the loss, AUC with a bootstrap interval and TPR at 1% FPR against training-set size
- `dp`               DP-SGD written by hand (per-example clipping with torch.func, Gaussian noise) and its epsilon
                     from an RDP accountant for the subsampled Gaussian mechanism
"""
