"""Denoising diffusion models (Ho et al. 2020): learn to undo noise, then generate by denoising noise.

The forward process adds Gaussian noise in T small steps, x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) e;
it has a closed form for any t at once (abar_t = prod_{s<=t} (1 - beta_s)):

    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)     ->  x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps

A network eps_theta(x_t, t) is trained to predict the noise eps (the "simple" loss, a mean squared error).
Sampling starts from x_T ~ N(0, I) and steps backwards:
  - DDPM: every one of the T steps, each adding a little fresh noise (ddpm_step);
  - DDIM (Song et al. 2021): any subsequence of the steps; with eta = 0 no noise at all, so the map from
    x_T to the sample is deterministic (ddim_step).
What the network predicts (`prediction`): the noise eps (DDPM), or v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0
(Salimans & Ho 2022). At the noisiest steps x_t is almost pure noise, so predicting eps is easy and says
little about the image; x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) then divides the network's error
by sqrt(abar_t), which is 4.9e-5 at t = 999 of the cosine schedule. v turns into x_0 there instead, so a
few-step deterministic DDIM chain starts from a sensible guess (digits, 150 s: DDIM-25 FD 2.96 with v against
3.41 with eps; the full chain 2.56 and 2.55).
With v the samplers get x0_hat = sqrt(abar_t) x_t - sqrt(1 - abar_t) v straight from the network (and
eps = sqrt(1 - abar_t) x_t + sqrt(abar_t) v for the direction): going v -> eps -> x0 would divide by
sqrt(abar_t) ~ 5e-5 at the last step and lose ~1e-3 to float32 rounding (Diffusion.predict).
Classifier-free guidance (Ho & Salimans 2022): one network trained with the label dropped to a "null"
label 10% of the time predicts eps with and without the label; sampling extrapolates between the two,
eps = eps_null + s * (eps_label - eps_null), s > 1 trading diversity for faithfulness to the label.

Conventions: t runs over 0..T-1 and indexes the schedule's arrays (x_0 is data, "abar before step 0" is 1).
Images live in [0, 1] outside the model and in [-1, 1] inside it; 2-D points are divided by `data_scale`.

    model = Diffusion(data_shape=(2,), arch="mlp")                          # 2-D toy data
    loss = model.loss(x0)                                                   # noise-prediction MSE
    x = model.sample(1000)                                                  # full DDPM chain, (1000, 2)
    dm = Diffusion(data_shape=(1, 8, 8), arch="unet", num_classes=10)       # digits, label-conditional
    sevens = dm.sample(16, steps=25, sampler="ddim", guidance=2.0, labels=torch.full((16,), 7))
Flow matching (`flow`, FlowMatching) trains the same networks to follow straight noise-to-data paths and
samples by integrating an ODE; see its docstring for how it relates to DDIM's probability-flow ODE.
The package: `schedule` (betas, NoiseSchedule), `steps` (the three formulas q_sample, ddpm_step, ddim_step
and guidance), `denoisers` (the networks eps_theta), `model` (Diffusion: loss and sample), `editing`
(inpaint with RePaint resampling, SDEdit) and `interpolation` (slerp between start noises), for Diffusion and
FlowMatching alike through `reverse`. Training on a
budget is course_lib.recipes.diffusion.train_model.
"""
from course_lib.models.diffusion.denoisers import MLPDenoiser, UNet
from course_lib.models.diffusion.editing import check_mask, denoising_error, half_mask, inpaint, sdedit
from course_lib.models.diffusion.interpolation import interpolate, slerp
from course_lib.models.diffusion.flow import SOLVERS, FlowMatching
from course_lib.models.diffusion.model import ARCHS, PREDICTIONS, SAMPLERS, Diffusion, build
from course_lib.models.diffusion.schedule import (SCHEDULES, NoiseSchedule, alpha_bars, cosine_betas, linear_betas,
                                                  make_betas, snr)
from course_lib.models.diffusion.steps import (ddim_step, ddim_timesteps, ddpm_step, guided_eps, predict_x0,
                                               q_sample)

__all__ = ["Diffusion", "FlowMatching", "SOLVERS", "build", "NoiseSchedule", "linear_betas", "cosine_betas", "make_betas", "alpha_bars", "snr",
           "q_sample", "predict_x0", "ddpm_step", "ddim_step", "guided_eps", "ddim_timesteps", "MLPDenoiser", "UNet",
           "SCHEDULES", "ARCHS", "SAMPLERS", "PREDICTIONS",
           "inpaint", "sdedit", "denoising_error", "interpolate", "slerp", "check_mask", "half_mask"]
