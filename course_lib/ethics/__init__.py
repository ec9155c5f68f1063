"""Ethics of generative AI, measured (notebooks 14 and 15): each claim made testable on the course's own models.

- `detect`      deepfake detection of generated digits: a small CNN and a frequency (DCT) detector against real
                images, quantised to the real grey levels first; cross-generator accuracy; the arms race with a GAN
"""
