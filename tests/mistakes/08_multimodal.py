"""Assignment 08: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) clip_loss
    "one_directional": {"cell": "clip_loss", "replace": [("return (image_to_text + text_to_image) / 2",
                                                          "return image_to_text")], "expect": "one-directional"},
    "text_to_image_only": {"cell": "clip_loss", "replace": [("return (image_to_text + text_to_image) / 2",
                                                             "return text_to_image")], "expect": "one-directional"},
    "softmax_wrong_axis_twice": {"cell": "clip_loss", "replace": [("F.cross_entropy(logits.T, target)",
                                                                   "F.cross_entropy(logits, target)")],
                                 "expect": "one-directional"},
    "no_temperature": {"cell": "clip_loss", "replace": [("image_emb @ text_emb.T / temperature", "image_emb @ text_emb.T")],
                       "expect": "no temperature"},
    "times_temperature": {"cell": "clip_loss", "replace": [("image_emb @ text_emb.T / temperature",
                                                            "image_emb @ text_emb.T * temperature")],
                          "expect": "do not multiply"},
    "directions_added": {"cell": "clip_loss", "replace": [("return (image_to_text + text_to_image) / 2",
                                                           "return image_to_text + text_to_image")], "expect": "not added"},
    "sum_over_batch": {"cell": "clip_loss", "replace": [("F.cross_entropy(logits, target)",
                                                         "F.cross_entropy(logits, target, reduction='sum')"),
                                                        ("F.cross_entropy(logits.T, target)",
                                                         "F.cross_entropy(logits.T, target, reduction='sum')")],
                       "expect": "not the sum"},
    "temperature_detached": {"cell": "clip_loss", "replace": [("image_emb @ text_emb.T / temperature",
                                                               "image_emb @ text_emb.T / float(temperature)")],
                             "expect": "learned temperature"},
    "fixed_temperature": {"cell": "clip_loss", "replace": [("image_emb @ text_emb.T / temperature",
                                                            "image_emb @ text_emb.T / 0.5")], "expect": "temperature"},
    "clip_imports_library": {"cell": "clip_loss", "code": (
        "from course_lib.models.clip import infonce\n\n"
        "def clip_loss(image_emb, text_emb, temperature):\n"
        "    return infonce(image_emb @ text_emb.T / temperature)"), "expect": "course_lib"},
    # (b) cross_attention
    "no_sqrt_d_scale": {"cell": "cross_attention", "replace": [(" / math.sqrt(q.shape[-1])", "")],
                        "expect": "no 1/sqrt(d) scale"},
    "scale_by_d": {"cell": "cross_attention", "replace": [("/ math.sqrt(q.shape[-1])", "/ q.shape[-1]")],
                   "expect": "not 1/d"},
    "scale_by_x_width": {"cell": "cross_attention", "replace": [("/ math.sqrt(q.shape[-1])", "/ math.sqrt(x.shape[-1])")],
                         "expect": "not x's width"},
    "scale_by_context_width": {"cell": "cross_attention", "replace": [("/ math.sqrt(q.shape[-1])",
                                                                       "/ math.sqrt(context.shape[-1])")],
                               "expect": "not the context's width"},
    "mask_ignored": {"cell": "cross_attention", "replace": [(
        "    scores = scores.masked_fill(~keep[:, None, :], float(\"-inf\"))      # padding words: -inf\n", "")],
        "expect": "the mask is ignored"},
    "softmax_over_positions": {"cell": "cross_attention", "replace": [("scores.softmax(dim=-1)", "scores.softmax(dim=1)")],
                               "expect": "softmax over the wrong axis"},
    "mask_after_softmax": {"cell": "cross_attention", "code": (
        "def cross_attention(x, context, keep, Wq, Wk, Wv):\n"
        "    q, k, v = x @ Wq, context @ Wk, context @ Wv\n"
        "    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) * keep[:, None, :]\n"
        "    return weights @ v, weights"), "expect": "mask the scores before the softmax"},
    "mask_per_position": {"cell": "cross_attention", "replace": [("~keep[:, None, :]", "~keep[None, :, :]")],
                        "expect": "keep[b] belongs to caption b"},
    "keys_from_x": {"cell": "cross_attention", "code": (
        "def cross_attention(x, context, keep, Wq, Wk, Wv):\n"
        "    q = x @ Wq                                    # (B, N, d)\n"
        "    k = x @ Wq                                    # (B, N, d): self-attention by mistake\n"
        "    v = context @ Wv                              # (B, T, d)\n"
        "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n"
        "    weights = scores.softmax(-1)\n"
        "    return weights[..., :v.shape[1]] @ v, weights[..., :v.shape[1]]"), "expect": "keys and values from the context"},
    "values_are_keys": {"cell": "cross_attention", "replace": [("return weights @ v, weights", "return weights @ k, weights")],
                        "expect": "values come from the context"},
    "returns_out_only": {"cell": "cross_attention", "replace": [("return weights @ v, weights", "return weights @ v")],
                         "expect": "return the pair"},
    "attention_imports_library": {"cell": "cross_attention", "code": (
        "import torch.nn.functional as F\n"
        "from course_lib.models.latent_diffusion.attention import CrossAttention\n\n"
        "def cross_attention(x, context, keep, Wq, Wk, Wv):\n"
        "    layer = CrossAttention(Wq.shape[0], Wk.shape[0], n_head=1)\n"
        "    return layer(x, context, keep, return_weights=True)"), "expect": "course_lib"},
    # (c) guided_noise_estimate
    "guidance_terms_swapped": {"cell": "guided_noise_estimate", "replace": [(
        "return eps_null + s * (eps_text - eps_null)", "return eps_text + s * (eps_null - eps_text)")],
        "expect": "the terms are swapped"},
    "one_plus_s_convention": {"cell": "guided_noise_estimate", "replace": [(
        "return eps_null + s * (eps_text - eps_null)", "return eps_text + s * (eps_text - eps_null)")],
        "expect": "(1 + s) convention"},
    "scale_on_difference_sign": {"cell": "guided_noise_estimate", "replace": [(
        "return eps_null + s * (eps_text - eps_null)", "return eps_null - s * (eps_text - eps_null)")],
        "expect": "eps_null + s (eps_text - eps_null)"},
    "scale_not_per_example": {"cell": "guided_noise_estimate", "replace": [(
        "    s = s.reshape(-1, *([1] * (z_t.dim() - 1))) if s.dim() == 1 else s   # (B, 1, 1, 1) or a number\n", "")],
        "expect": "one scale per example"},
    "scale_column_only": {"cell": "guided_noise_estimate", "replace": [(
        "s.reshape(-1, *([1] * (z_t.dim() - 1)))", "s[:, None]")], "expect": "one scale per example"},
    "no_negative_check": {"cell": "guided_noise_estimate", "replace": [(
        "    if (s < 0).any():\n        raise ValueError(f\"the guidance scale must be >= 0, got {scale}\")\n", "")],
        "expect": "must raise a ValueError"},
    "negative_check_after_denoiser": {"cell": "guided_noise_estimate", "code": (
        "def guided_noise_estimate(denoiser, z_t, t, context, null_context, scale):\n"
        "    eps_text, eps_null = denoiser(z_t, t, context), denoiser(z_t, t, null_context)\n"
        "    s = torch.as_tensor(scale, dtype=z_t.dtype)\n"
        "    if (s < 0).any():\n"
        "        raise ValueError(f'the guidance scale must be >= 0, got {scale}')\n"
        "    if s.dim() == 1:\n"
        "        s = s.reshape(-1, *([1] * (z_t.dim() - 1)))\n"
        "    return eps_null + s * (eps_text - eps_null)"), "expect": "computes nothing"},
    "vague_error": {"cell": "guided_noise_estimate", "replace": [(
        "f\"the guidance scale must be >= 0, got {scale}\"", "\"bad scale\"")], "expect": "must say it must be >= 0"},
    "only_scalar_check": {"cell": "guided_noise_estimate", "replace": [("if (s < 0).any():", "if s.dim() == 0 and s < 0:")],
                          "expect": "also as one entry"},
    "denoiser_without_t": {"cell": "guided_noise_estimate", "replace": [
        ("denoiser(z_t, t, context)", "denoiser(z_t, torch.zeros_like(t), context)"),
        ("denoiser(z_t, t, null_context)", "denoiser(z_t, torch.zeros_like(t), null_context)")],
        "expect": "pass the step t"},
    "guidance_imports_library": {"cell": "guided_noise_estimate", "code": (
        "from course_lib.models.diffusion.steps import guided_eps\n\n"
        "def guided_noise_estimate(denoiser, z_t, t, context, null_context, scale):\n"
        "    s = torch.as_tensor(scale, dtype=z_t.dtype)\n"
        "    if (s < 0).any():\n"
        "        raise ValueError(f'the guidance scale must be >= 0, got {scale}')\n"
        "    if s.dim() == 1:\n"
        "        s = s.reshape(-1, *([1] * (z_t.dim() - 1)))\n"
        "    return guided_eps(denoiser(z_t, t, context), denoiser(z_t, t, null_context), s)"), "expect": "course_lib"},
}

HONEST = {
    "clip_log_softmax": {"cell": "clip_loss", "code": """
def clip_loss(image_emb, text_emb, temperature):
    sims = image_emb @ text_emb.t()            # (B, B) cosines
    logits = sims / temperature
    rows = -torch.diagonal(torch.log_softmax(logits, dim=1)).mean()
    cols = -torch.diagonal(torch.log_softmax(logits, dim=0)).mean()
    return 0.5 * (rows + cols)
"""},
    "clip_logsumexp": {"cell": "clip_loss", "code": """
def clip_loss(image_emb, text_emb, temperature):
    L = torch.einsum("ie,je->ij", image_emb, text_emb) / temperature
    d = L.diagonal()
    return ((L.logsumexp(1) - d).mean() + (L.logsumexp(0) - d).mean()) / 2
"""},
    "attention_einsum": {"cell": "cross_attention", "code": """
def cross_attention(x, context, keep, Wq, Wk, Wv):
    Q = torch.einsum("bnc,cd->bnd", x, Wq)          # (B, N, d)
    K = torch.einsum("btc,cd->btd", context, Wk)    # (B, T, d)
    V = torch.einsum("btc,cd->btd", context, Wv)    # (B, T, d)
    d = Wq.shape[1]
    S = torch.einsum("bnd,btd->bnt", Q, K) / d ** 0.5   # (B, N, T)
    S = torch.where(keep.unsqueeze(1), S, torch.tensor(float("-inf")))
    A = torch.softmax(S, dim=2)                     # (B, N, T)
    return torch.bmm(A, V), A                       # (B, N, d), (B, N, T)
"""},
    "attention_matmul_mask_min": {"cell": "cross_attention", "code": """
def cross_attention(x, context, keep, Wq, Wk, Wv):
    q = torch.matmul(x, Wq)                          # (B, N, d)
    k = torch.matmul(context, Wk)                    # (B, T, d)
    v = torch.matmul(context, Wv)                    # (B, T, d)
    scores = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(k.size(-1))   # (B, N, T)
    mask = keep.unsqueeze(1).expand_as(scores)
    scores = scores.masked_fill(mask == 0, -math.inf)
    w = F.softmax(scores, dim=-1)
    return torch.matmul(w, v), w
"""},
    "guidance_two_calls_float": {"cell": "guided_noise_estimate", "code": """
def guided_noise_estimate(denoiser, z_t, t, context, null_context, scale):
    if isinstance(scale, torch.Tensor):
        if torch.any(scale < 0):
            raise ValueError(f"guidance scale must be >= 0, got {scale.tolist()}")
        if scale.ndim == 1:
            scale = scale.view(-1, *[1] * (z_t.ndim - 1))
    elif scale < 0:
        raise ValueError(f"guidance scale must be >= 0, got {scale}")
    cond = denoiser(z_t, t, context)
    uncond = denoiser(z_t, t, null_context)
    return scale * cond + (1 - scale) * uncond
"""},
    "guidance_batched": {"cell": "guided_noise_estimate", "code": """
def guided_noise_estimate(denoiser, z_t, t, context, null_context, scale):
    s = torch.as_tensor(scale, dtype=z_t.dtype).flatten()
    if (s < 0).any():
        raise ValueError(f"guidance scale must be >= 0; got {scale}")
    B = z_t.shape[0]
    both = denoiser(torch.cat([z_t, z_t]), torch.cat([t, t]), torch.cat([context, null_context]))
    eps_c, eps_u = both[:B], both[B:]
    s = s.view(-1, *([1] * (z_t.dim() - 1)))
    return eps_u + s * (eps_c - eps_u)
"""},
}
