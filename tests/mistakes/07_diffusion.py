"""Assignment 07: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) q_sample
    "abar_t_column_only": {"cell": "q_sample", "replace": [("a = abar[t].reshape(-1, *([1] * (x0.dim() - 1)))",
                                                            "a = abar[t][:, None]")], "expect": "(B, 1, ..., 1)"},
    "no_sqrt_on_abar": {"cell": "q_sample", "replace": [("a.sqrt() * x0", "a * x0")], "expect": "the square root"},
    "abar_t_minus_one": {"cell": "q_sample", "replace": [("a = abar[t]", "a = abar[t - 1]")], "expect": "not abar[t - 1]"},
    "one_minus_sqrt": {"cell": "q_sample", "replace": [("(1 - a).sqrt() * noise", "(1 - a.sqrt()) * noise")],
                       "expect": "sqrt(1 - abar_t)"},
    "first_t_for_all": {"cell": "q_sample", "replace": [("a = abar[t]", "a = abar[t[0]].expand(len(t))")],
                        "expect": "one t per example"},
    "q_imports_library": {"cell": "q_sample", "code": (
        "from course_lib.models.diffusion import q_sample"), "expect": "course_lib"},
    # (b) noise_prediction_loss
    "target_x0": {"cell": "noise_prediction_loss", "replace": [("(eps_model(x_t, t) - noise)", "(eps_model(x_t, t) - x0)")],
                  "expect": "the target is the noise"},
    "sum_not_mean": {"cell": "noise_prediction_loss", "replace": [("** 2).mean()", "** 2).sum()")], "expect": "not a sum"},
    "model_sees_x0": {"cell": "noise_prediction_loss", "replace": [("eps_model(x_t, t)", "eps_model(x0, t)")],
                      "expect": "feed the model x_t"},
    "ignores_forward": {"cell": "noise_prediction_loss", "replace": [("    if forward is None:\n        forward = q_sample\n", ""),
                                                                     ("forward(x0, t, noise, abar)", "q_sample(x0, t, noise, abar)")],
                        "expect": "forward(x0, t, noise, abar)"},
    "model_without_t": {"cell": "noise_prediction_loss", "replace": [("eps_model(x_t, t)", "eps_model(x_t, t.float() / len(abar))")],
                        "expect": "pass the steps t"},
    "detached_loss": {"cell": "noise_prediction_loss", "replace": [("return ((eps_model(x_t, t) - noise) ** 2).mean()",
                                                                    "return ((eps_model(x_t, t) - noise) ** 2).mean().detach()")],
                      "expect": "differentiable"},
    "per_example_sum": {"cell": "noise_prediction_loss", "replace": [("** 2).mean()", "** 2).sum(dim=1).mean()")],
                        "expect": "mean over every element"},
    "loss_imports_library": {"cell": "noise_prediction_loss", "code": (
        "from course_lib.models import diffusion\n\n"
        "def noise_prediction_loss(eps_model, x0, t, noise, abar, forward=None):\n"
        "    x_t = (forward or diffusion.q_sample)(x0, t, noise, abar)\n"
        "    return ((eps_model(x_t, t) - noise) ** 2).mean()"), "expect": "course_lib"},
    # (c) ddpm_step
    "sigma_is_sqrt_beta": {"cell": "ddpm_step", "replace": [("(beta * (1 - a_prev) / (1 - a_t)).sqrt()", "beta.sqrt()")],
                           "expect": "not beta_t"},
    "noise_at_t0": {"cell": "ddpm_step", "code": (
        "def ddpm_step(x_t, t, eps, betas, noise):\n"
        "    ab = torch.cumprod(1 - betas, dim=0)\n"
        "    beta, a_t = betas[t], ab[t]\n"
        "    a_prev = ab[t - 1] if t > 0 else torch.tensor(1.0)\n"
        "    mean = (x_t - beta / (1 - a_t).sqrt() * eps) / (1 - beta).sqrt()\n"
        "    return mean + (beta * (1 - a_prev) / (1 - a_t)).sqrt() * noise"), "expect": "at t == 0 return the mean"},
    "noise_at_t0_crashes_on_none": {"cell": "ddpm_step", "replace": [("    if t == 0:\n        return mean\n", "")],
                                    "expect": "at t == 0 return the mean"},
    "no_sqrt_alpha": {"cell": "ddpm_step", "replace": [(") / (1 - beta).sqrt()", ") / (1 - beta)")],
                      "expect": "/ sqrt(alpha_t)"},
    "abar_for_alpha": {"cell": "ddpm_step", "replace": [(") / (1 - beta).sqrt()", ") / a_t.sqrt()")],
                       "expect": "/ sqrt(alpha_t)"},
    "eps_sign": {"cell": "ddpm_step", "replace": [("(x_t - beta /", "(x_t + beta /")], "expect": "beta_t / sqrt(1 - abar_t) * eps"},
    "sigma_wrong_abar": {"cell": "ddpm_step", "replace": [("a_prev = ab[t - 1]", "a_prev = ab[t]")], "expect": "sigma_t^2"},
    "ddpm_imports_library": {"cell": "ddpm_step", "code": (
        "import course_lib.models.diffusion as D\n\n"
        "def ddpm_step(x_t, t, eps, betas, noise):\n"
        "    return D.ddpm_step(x_t, t, eps, betas, noise)"), "expect": "course_lib"},
    # (d) ddim_step
    "abar_minus_one_at_data": {"cell": "ddim_step", "replace": [("a_prev = abar[t_prev] if t_prev >= 0 else torch.tensor(1.0)",
                                                                 "a_prev = abar[t_prev]")], "expect": "abar[-1]"},
    "abar_t_minus_1": {"cell": "ddim_step", "replace": [("a_prev = abar[t_prev] if t_prev >= 0",
                                                         "a_prev = abar[t - 1] if t_prev >= 0")], "expect": "not abar[t - 1]"},
    "no_sqrt_direction": {"cell": "ddim_step", "replace": [("(1 - a_prev - sigma ** 2).sqrt() * eps", "(1 - a_prev - sigma ** 2) * eps")],
                          "expect": "sqrt(1 - abar_prev)"},
    "clips_x0": {"cell": "ddim_step", "replace": [("x0 = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()",
                                                   "x0 = ((x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)")],
                 "expect": "no clipping"},
    "random_direction": {"cell": "ddim_step", "replace": [("(1 - a_prev - sigma ** 2).sqrt() * eps", "(1 - a_prev - sigma ** 2).sqrt() * torch.randn_like(eps)")],
                         "expect": "the given eps"},
    "eta_ignored": {"cell": "ddim_step", "replace": [("sigma = eta *", "sigma = 0 *")], "expect": "eta = 1"},
    "eta_sigma_not_removed_from_direction": {"cell": "ddim_step", "replace": [("(1 - a_prev - sigma ** 2).sqrt()", "(1 - a_prev).sqrt()")],
                                             "expect": "sqrt(1 - abar_prev - sigma^2)"},
    "eta_sigma_missing_ratio": {"cell": "ddim_step", "replace": [(" * (1 - a_t / a_prev).sqrt()", "")], "expect": "beta-tilde"},
    "ddim_imports_library": {"cell": "ddim_step", "code": (
        "from course_lib.models.diffusion import ddim_step as _ddim\n\n"
        "def ddim_step(x_t, t, t_prev, eps, abar, eta=0.0, noise=None):\n"
        "    return _ddim(x_t, t, t_prev, eps, abar, eta=eta)"), "expect": "course_lib"},
}

HONEST = {
    "q_sample_view": {"cell": "q_sample", "code": """
def q_sample(x0, t, noise, abar):
    shape = (x0.shape[0],) + (1,) * (x0.ndim - 1)
    sa = torch.sqrt(abar[t]).view(shape)
    s1 = torch.sqrt(1.0 - abar[t]).view(shape)
    return sa * x0 + s1 * noise
"""},
    "loss_mse": {"cell": "noise_prediction_loss", "code": """
import torch.nn.functional as F

def noise_prediction_loss(eps_model, x0, t, noise, abar, forward=None):
    fwd = q_sample if forward is None else forward
    return F.mse_loss(eps_model(fwd(x0, t, noise, abar), t), noise)
"""},
    "ddpm_from_alphas": {"cell": "ddpm_step", "code": """
def ddpm_step(x_t, t, eps, betas, noise):
    alphas = 1 - betas
    abar_ = alphas.cumprod(0)
    mean = (x_t - (1 - alphas[t]) / torch.sqrt(1 - abar_[t]) * eps) / torch.sqrt(alphas[t])
    if t > 0:
        var = (1 - abar_[t - 1]) / (1 - abar_[t]) * betas[t]
        mean = mean + torch.sqrt(var) * noise
    return mean
"""},
    "ddim_float_math": {"cell": "ddim_step", "code": """
def ddim_step(x_t, t, t_prev, eps, abar, eta=0.0, noise=None):
    a_t = float(abar[t])
    a_prev = float(abar[t_prev]) if t_prev >= 0 else 1.0
    x0_hat = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
    x = math.sqrt(a_prev) * x0_hat + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps
    if noise is not None and sigma > 0:
        x = x + sigma * noise
    return x
"""},
}
