"""Assignment 03: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) reparameterize
    "exp_logvar_as_sigma": {"cell": "reparameterize", "replace": [("torch.exp(0.5 * logvar)", "torch.exp(logvar)")],
                            "expect": "exp(logvar / 2)"},
    "logvar_as_sigma": {"cell": "reparameterize", "replace": [("torch.exp(0.5 * logvar)", "logvar")],
                        "expect": "not logvar itself"},
    "sigma_squared_times_eps": {"cell": "reparameterize", "replace": [("torch.exp(0.5 * logvar)", "torch.exp(logvar) ** 2")],
                                "expect": "exp(logvar / 2)"},
    "minus_sigma": {"cell": "reparameterize", "replace": [("mu + torch.exp", "mu - torch.exp")], "expect": "add sigma * eps"},
    "fresh_noise": {"cell": "reparameterize", "replace": [("* eps", "* torch.randn_like(mu)")],
                    "expect": "use the eps you are given"},
    "detached_logvar": {"cell": "reparameterize", "replace": [("torch.exp(0.5 * logvar)", "torch.exp(0.5 * logvar.detach())")],
                        "expect": "do not detach"},
    "no_grad": {"cell": "reparameterize", "code": (
        "def reparameterize(mu, logvar, eps):\n"
        "    with torch.no_grad():\n"
        "        return mu + torch.exp(0.5 * logvar) * eps"), "expect": "torch.no_grad"},
    "imports_library_reparameterize": {"cell": "reparameterize", "code": (
        "from course_lib.models.vae import reparameterize as _lib_reparameterize\n\n"
        "def reparameterize(mu, logvar, eps):\n"
        "    return mu + (_lib_reparameterize(mu, logvar) - mu) * 0 + torch.exp(0.5 * logvar) * eps"),
        "expect": "course_lib"},
    # (b) gaussian_kl
    "kl_exp_logvar_as_sigma": {"cell": "gaussian_kl", "replace": [("logvar.exp() +", "(2 * logvar).exp() +")],
                               "expect": "not exp(2 logvar)"},
    "kl_mean_over_dims": {"cell": "gaussian_kl", "replace": [("per_dim.sum(dim=1)", "per_dim.mean(dim=1)")],
                          "expect": "not the mean"},
    "kl_sum_over_batch": {"cell": "gaussian_kl", "replace": [("per_dim.sum(dim=1)", "per_dim.sum(dim=0)")],
                          "expect": "one KL per row"},
    "kl_no_half": {"cell": "gaussian_kl", "replace": [("return 0.5 * per_dim", "return per_dim")], "expect": "times 1/2"},
    "kl_log_term_sign": {"cell": "gaussian_kl", "replace": [("prior_logvar - logvar +", "prior_logvar + logvar +")],
                         "expect": "the log term is -logvar"},
    "kl_forgets_minus_one": {"cell": "gaussian_kl", "replace": [(" - 1.0", "")], "expect": "keep the -1"},
    "kl_divides_by_s": {"cell": "gaussian_kl", "replace": [("/ prior_logvar.exp()", "/ (0.5 * prior_logvar).exp()")],
                        "expect": "not s"},
    "kl_ignores_prior": {"cell": "gaussian_kl", "code": (
        "def gaussian_kl(mu, logvar, prior_mu=0.0, prior_logvar=0.0):\n"
        "    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(dim=1)"), "expect": "with a prior N(m, s^2)"},
    "kl_imports_library": {"cell": "gaussian_kl", "code": (
        "from course_lib.models import vae\n\n"
        "def gaussian_kl(mu, logvar, prior_mu=0.0, prior_logvar=0.0):\n"
        "    return vae.gaussian_kl(mu, logvar)"), "expect": "calls course_lib"},
    "kl_through_own_helper": {"cell": "gaussian_kl", "code": (
        "from course_lib.models.vae import gaussian_kl as _kl\n\n"
        "def _standard_kl(mu, logvar):\n"
        "    return _kl(mu, logvar)\n\n"
        "def gaussian_kl(mu, logvar, prior_mu=0.0, prior_logvar=0.0):\n"
        "    return _standard_kl(mu, logvar)"), "expect": "calls course_lib"},
    # (c) neg_elbo
    "elbo_mean_over_pixels": {"cell": "neg_elbo", "replace": [(".flatten(1).sum(dim=1)", ".flatten(1).mean(dim=1)")],
                              "expect": "not the mean"},
    "elbo_default_reduction": {"cell": "neg_elbo", "replace": [('F.cross_entropy(logits, x_levels, reduction="none").flatten(1).sum(dim=1)',
                                                                "F.cross_entropy(logits, x_levels)")],
                               "expect": "reduction='none'"},
    "elbo_beta_on_distortion": {"cell": "neg_elbo", "replace": [("return distortion + beta * kl(mu, logvar)",
                                                                 "return beta * distortion + kl(mu, logvar)")],
                                "expect": "the KL only"},
    "elbo_ignores_kl_argument": {"cell": "neg_elbo", "replace": [("return distortion + beta * kl(mu, logvar)",
                                                                  "return distortion + beta * gaussian_kl(mu, logvar)")],
                                 "expect": "use the kl argument"},
    "elbo_levels_on_last_axis": {"cell": "neg_elbo", "replace": [(
        'F.cross_entropy(logits, x_levels, reduction="none").flatten(1).sum(dim=1)',
        "-torch.log_softmax(logits, dim=-1).gather(1, x_levels[:, None]).flatten(1).sum(1)")],
        "expect": "dim 1 of logits"},
    "elbo_imports_library": {"cell": "neg_elbo", "code": (
        "from course_lib.models.vae import VAE\n\n"
        "def neg_elbo(logits, x_levels, mu, logvar, beta=1.0, kl=None):\n"
        "    kl = kl or gaussian_kl\n"
        "    return -VAE.log_likelihood(None, x_levels, logits) + beta * kl(mu, logvar)"), "expect": "course_lib"},
    # (d) interpolate
    "interp_end_excluded": {"cell": "interpolate", "replace": [("torch.linspace(0.0, 1.0, steps, dtype=z_a.dtype)",
                                                                "(torch.arange(steps, dtype=z_a.dtype) / steps)")],
                            "expect": "both ends included"},
    "interp_swapped_ends": {"cell": "interpolate", "replace": [("(1 - t) * z_a + t * z_b", "t * z_a + (1 - t) * z_b")],
                            "expect": "the first row is z_a"},
    "interp_steps_off_by_one": {"cell": "interpolate", "replace": [("torch.linspace(0.0, 1.0, steps,", "torch.linspace(0.0, 1.0, steps + 1,")],
                                "expect": "(steps, D)"},
    "interp_no_value_error": {"cell": "interpolate", "replace": [("if steps < 2:", "if steps < 1:")],
                              "expect": "raise ValueError"},
    "interp_imports_library": {"cell": "interpolate", "code": (
        "import course_lib.viz\n\n"
        "def interpolate(z_a, z_b, steps=10):\n"
        "    import course_lib.models.vae\n"
        "    t = torch.linspace(0, 1, steps)[:, None]\n"
        "    return (1 - t) * z_a + t * z_b"), "expect": "imports course_lib inside the function"},
}

HONEST = {
    "reparameterize_sqrt": {"cell": "reparameterize", "code": """
def reparameterize(mu, logvar, eps):
    std = torch.sqrt(torch.exp(logvar))
    return eps * std + mu
"""},
    "kl_written_out": {"cell": "gaussian_kl", "code": """
def gaussian_kl(mu, logvar, prior_mu=0.0, prior_logvar=0.0):
    var = torch.exp(logvar)
    prior_var = torch.exp(torch.as_tensor(prior_logvar))
    terms = torch.log(prior_var) - logvar + (var + (mu - prior_mu) ** 2) / prior_var - 1
    return terms.sum(-1) / 2
"""},
    "elbo_log_softmax_gather": {"cell": "neg_elbo", "code": """
def neg_elbo(logits, x_levels, mu, logvar, beta=1.0, kl=None):
    kl_fn = gaussian_kl if kl is None else kl
    logp = torch.log_softmax(logits, dim=1).gather(1, x_levels.unsqueeze(1)).squeeze(1)   # (B, H, W)
    return -logp.sum(dim=(1, 2)) + beta * kl_fn(mu, logvar)
"""},
    "interpolate_loop": {"cell": "interpolate", "code": """
def interpolate(z_a, z_b, steps=10):
    if steps < 2:
        raise ValueError("need at least 2 steps")
    return torch.stack([z_a + (z_b - z_a) * i / (steps - 1) for i in range(steps)])
"""},
}
