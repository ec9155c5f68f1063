"""Assignment 04: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) discriminator_loss
    "d_labels_swapped": {"cell": "discriminator_loss", "replace": [(
        "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        "F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()")], "expect": "labelled 1"},
    "d_log_sigmoid": {"cell": "discriminator_loss", "replace": [(
        "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        "-(torch.log(torch.sigmoid(real_logits)).mean() + torch.log(1 - torch.sigmoid(fake_logits)).mean())")],
        "expect": "use F.softplus"},
    "d_sum_not_mean": {"cell": "discriminator_loss", "replace": [(
        "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        "F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()")], "expect": "mean, not sum"},
    "d_one_mean_over_both": {"cell": "discriminator_loss", "replace": [(
        "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        "2 * torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()")],
        "expect": "each batch separately"},
    "d_imports_library": {"cell": "discriminator_loss", "code": (
        "from course_lib.models.gan import discriminator_loss"), "expect": "course_lib"},
    # (b) generator_loss_ns
    "g_minimax": {"cell": "generator_loss_ns", "replace": [("F.softplus(-fake_logits).mean()", "-F.softplus(fake_logits).mean()")],
                  "expect": "not log(1 - sigmoid(f))"},
    "g_sign": {"cell": "generator_loss_ns", "replace": [("F.softplus(-fake_logits).mean()", "F.softplus(fake_logits).mean()")],
               "expect": "-log sigmoid(f) = softplus(-f)"},
    "g_log_sigmoid": {"cell": "generator_loss_ns", "replace": [("F.softplus(-fake_logits).mean()",
                                                                "-torch.log(torch.sigmoid(fake_logits)).mean()")],
                      "expect": "use F.softplus"},
    "g_sum": {"cell": "generator_loss_ns", "replace": [("F.softplus(-fake_logits).mean()", "F.softplus(-fake_logits).sum()")],
              "expect": "mean, not sum"},
    "g_imports_library": {"cell": "generator_loss_ns", "code": (
        "from course_lib.models import gan\n\n"
        "def generator_loss_ns(fake_logits):\n"
        "    return gan.generator_loss_nonsaturating(fake_logits)"), "expect": "course_lib"},
    # (c) gradient_penalty
    "gp_lecture_2d_only": {"cell": "gradient_penalty", "code": (
        "def gradient_penalty(critic, real, fake, eps):\n"
        "    eps = eps[:, None]                                               # (B, 1)\n"
        "    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)\n"
        "    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)\n"
        "    return ((grad.norm(dim=1) - 1) ** 2).mean()"), "expect": "(B, 1, 1, 1)"},
    "gp_on_real_points": {"cell": "gradient_penalty", "replace": [(
        "x_hat = (e * real + (1 - e) * fake).detach().requires_grad_(True)", "x_hat = real.clone().requires_grad_(True)")],
        "expect": "not at the real points"},
    "gp_eps_on_fake": {"cell": "gradient_penalty", "replace": [("e * real + (1 - e) * fake", "(1 - e) * real + e * fake")],
                       "expect": "eps * real + (1 - eps) * fake"},
    "gp_fresh_eps": {"cell": "gradient_penalty", "replace": [("e = eps.reshape(", "e = torch.rand_like(eps).reshape(")],
                     "expect": "with the eps given"},
    "gp_no_create_graph": {"cell": "gradient_penalty", "replace": [(", create_graph=True)", ")")],
                           "expect": "create_graph=True"},
    "gp_squared_norm": {"cell": "gradient_penalty", "replace": [("grad.reshape(b, -1).norm(dim=1)", "grad.reshape(b, -1).pow(2).sum(dim=1)")],
                        "expect": "not its square"},
    "gp_norm_over_channels_only": {"cell": "gradient_penalty", "replace": [("grad.reshape(b, -1).norm(dim=1)", "grad.norm(dim=1)")],
                                   "expect": "flatten each example"},
    "gp_sum_over_batch": {"cell": "gradient_penalty", "replace": [("** 2).mean()", "** 2).sum()")],
                          "expect": "averaged over the batch"},
    "gp_imports_library": {"cell": "gradient_penalty", "code": (
        "from course_lib.models.gan import gradient_penalty as _gp\n\n"
        "def gradient_penalty(critic, real, fake, eps):\n"
        "    return _gp(critic, real, fake)"), "expect": "course_lib"},
    # (d) mode_coverage
    "mc_counts_every_sample": {"cell": "mode_coverage", "replace": [("torch.bincount(nearest[good]", "torch.bincount(nearest")],
                               "expect": "count only the high-quality samples"},
    "mc_radius_std": {"cell": "mode_coverage", "replace": [("good = nearest_dist <= n_std * std", "good = nearest_dist <= std")],
                      "expect": "radius is n_std * std"},
    "mc_strict_radius": {"cell": "mode_coverage", "replace": [("nearest_dist <= n_std * std", "nearest_dist < n_std * std")],
                         "expect": "(at most)"},
    "mc_no_minlength": {"cell": "mode_coverage", "replace": [(", minlength=modes.shape[0])", ")")], "expect": "minlength"},
    "mc_min_count_strict": {"cell": "mode_coverage", "replace": [("counts >= min_count", "counts > min_count")],
                            "expect": "counts >= min_count"},
    "mc_returns_tensors": {"cell": "mode_coverage", "replace": [(
        "return int((counts >= min_count).sum()), float(good.double().mean()), counts",
        "return (counts >= min_count).sum(), good.double().mean(), counts")], "expect": "int(...)"},
    "mc_nearest_sample_per_mode": {"cell": "mode_coverage", "replace": [(
        "counts = torch.bincount(nearest[good], minlength=modes.shape[0])",
        "counts = (dist <= n_std * std).sum(dim=0)")], "expect": "for its nearest mode"},
    "mc_imports_library": {"cell": "mode_coverage", "code": (
        "from course_lib import metrics\n\n"
        "def mode_coverage(samples, modes, std, n_std=3.0, min_count=1):\n"
        "    c = metrics.mode_coverage(samples, modes, std, n_std=n_std, min_count=min_count)\n"
        "    return c.covered, c.high_quality_fraction, c.counts"), "expect": "course_lib"},
}

HONEST = {
    "d_bce_with_logits": {"cell": "discriminator_loss", "code": """
def discriminator_loss(real_logits, fake_logits):
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake
"""},
    "g_logsigmoid": {"cell": "generator_loss_ns", "code": """
def generator_loss_ns(fake_logits):
    return -F.logsigmoid(fake_logits).mean()
"""},
    "gp_view_and_sqrt": {"cell": "gradient_penalty", "code": """
def gradient_penalty(critic, real, fake, eps):
    shape = [real.size(0)] + [1] * (real.dim() - 1)
    e = eps.view(shape)
    x_hat = e * real + (1 - e) * fake
    x_hat.requires_grad_(True)
    scores = critic(x_hat)
    grads = torch.autograd.grad(outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores),
                                create_graph=True, retain_graph=True)[0]
    norms = torch.sqrt((grads.view(grads.size(0), -1) ** 2).sum(dim=1))
    return torch.mean((norms - 1) ** 2)
"""},
    "mc_loops": {"cell": "mode_coverage", "code": """
def mode_coverage(samples, modes, std, n_std=3.0, min_count=1):
    K = modes.shape[0]
    counts = torch.zeros(K, dtype=torch.int64)
    good = 0
    for s in samples:
        d = ((modes - s) ** 2).sum(dim=1).sqrt()
        k = int(d.argmin())
        if d[k] <= n_std * std:
            counts[k] += 1
            good += 1
    return int((counts >= min_count).sum()), good / len(samples), counts
"""},
}
