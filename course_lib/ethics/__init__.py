"""Ethics of generative models, measured (notebooks 14 and 15): each claim becomes a number on a course model.

- `amplification`  bias amplification: group shares of generated samples against the training shares (names by
                   census sex, digits by class), the amplification ratio and difference with 95% intervals,
                   census groups and frequency-weighted (or reweighted) name mixes, a rare-class digit set
- `rare_class`     a 2% digit class across the VAE, GAN and diffusion families (recipe defaults), judged by the
                   course classifier; balanced conditional sampling as a mitigation
- `stereotype`     a captioned shapes set where circles are usually red (a text-to-image stereotype in
                   miniature) and the colour a generated image shows
"""
