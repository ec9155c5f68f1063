"""The model families of the course: the mathematics only, one short file (or small package) per family.

bigram and char_mlp (notebooks 01-02), vae (03), gan (04), gpt (05-06), diffusion (07); shared input checks
in `inputs`, the diffusion denoisers in `denoisers`. Tuned defaults, training on a step or time budget and
the `genai-course train/sample` adapters of a family live in `course_lib.recipes.<family>`, not here.

The family protocol, which every family follows (new families from the start; the older ones still differ
in places, e.g. GPT's `generate`, the VAE's `y` and `log_prob_iw`, and are being moved onto it):
- a config: `Model.from_config(cfg)` builds the model from a plain dict and `model.config_dict()` returns
  that dict; checkpoints store it beside the state_dict and load through `course_lib.checkpoints`;
- `model.sample(n, *, labels=None, generator=None)`: n samples, drawn in eval mode on the model's device
  (a generator on another device is allowed; one helper places the random draws);
- one name per likelihood, with its unit: `nll(x)` in nats per example where the family has a likelihood
  (bits per dimension through course_lib.metrics); a GAN has none;
- conditioning by `labels`, int64 of shape (n,), everywhere;
- `genai-course train FAMILY` and `genai-course sample CKPT` through `course_lib.recipes.<family>`.
"""
