"""Ethics of generative AI, made measurable (notebooks 14-15): each claim tested on the course's own models.

- `watermark`        provenance for text: the green-list watermark of Kirchenbauer et al. (2023) on a
                     character-level GPT (keyed green lists from the previous characters, a logit bonus when
                     sampling, a z-test whose threshold is calibrated on held-out human text)
- `image_watermark`  provenance for images: a keyed spread-spectrum pattern in a mid-frequency DCT band,
                     detected by correlation against a threshold calibrated on unmarked images
"""
