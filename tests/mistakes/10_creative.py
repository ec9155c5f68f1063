"""Assignment 10: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

_KNOWN = "known = a.sqrt() * x_known + (1 - a).sqrt() * noise  # the forward jump q(x_t_prev | x_known)"
_FULL = "full = int(match.group(1)) * 4 / int(match.group(2))        # quarter notes per bar: 6/8 -> 3.0"
_EDGE = "fits.append(1e-6 < length <= full + 1e-6)"

MISTAKES = {
    # (a) keep_known
    "mask_inverted": {"cell": "keep_known", "replace": [("return mask * known + (1 - mask) * x_prev",
                                                         "return (1 - mask) * known + mask * x_prev")],
                      "expect": "the mask is inverted"},
    "known_not_noised": {"cell": "keep_known", "replace": [(_KNOWN, "known = x_known")], "expect": "not noised"},
    "no_square_roots": {"cell": "keep_known", "replace": [(_KNOWN, "known = a * x_known + (1 - a) * noise")],
                        "expect": "square roots"},
    "no_noise_term": {"cell": "keep_known", "replace": [(_KNOWN, "known = a.sqrt() * x_known")],
                      "expect": "noise term"},
    "level_it_came_from": {"cell": "keep_known", "replace": [("a = abar[t_prev]", "a = abar[t_prev + 1]")],
                           "expect": "the level the step came from"},
    "abar_minus_one_wraps": {"cell": "keep_known", "replace": [(
        "    if t_prev == -1:\n        known = x_known                                      # the last step lands on the data: no noise left\n    else:\n        a = abar[t_prev]\n        " + _KNOWN,
        "    a = abar[t_prev]\n    " + _KNOWN)], "expect": "abar[-1] is the last level"},
    "no_mask_check": {"cell": "keep_known", "replace": [(
        "    if not ((mask == 0) | (mask == 1)).all():\n        raise ValueError", "    if False:\n        raise ValueError")],
        "expect": "values other than 0 and 1"},
    "nothing_to_regenerate_accepted": {"cell": "keep_known", "replace": [("if not (mask == 0).any():", "if False:")],
                                       "expect": "regenerates nothing"},
    "keep_known_imports_library": {"cell": "keep_known", "code": (
        "from course_lib.models.diffusion.steps import q_sample\n\n"
        "def keep_known(x_prev, x_known, mask, t_prev, abar, noise):\n"
        "    if not ((mask == 0) | (mask == 1)).all() or not (mask == 0).any():\n"
        "        raise ValueError('the mask must hold 0 and 1, with at least one 0')\n"
        "    t = torch.full((x_known.shape[0],), t_prev, dtype=torch.long)\n"
        "    known = x_known if t_prev == -1 else q_sample(x_known, t, noise, abar)\n"
        "    return mask * known + (1 - mask) * x_prev"), "expect": "course_lib"},
    # (b) bars_fit_meter
    "meter_in_whole_notes": {"cell": "bars_fit_meter", "replace": [(_FULL, "full = int(match.group(1)) / int(match.group(2))")],
                             "expect": "not n / d"},
    "numerator_only": {"cell": "bars_fit_meter", "replace": [(_FULL, "full = int(match.group(1))")],
                       "expect": "the denominator matters"},
    "exact_float_equality": {"cell": "bars_fit_meter", "replace": [("fits.append(abs(length - full) <= 1e-6)",
                                                                    "fits.append(length == full)")],
                             "expect": "within 1e-6"},
    "no_pickup": {"cell": "bars_fit_meter", "replace": [("if i == 0 or i == len(bars) - 1:", "if i == len(bars) - 1:")],
                  "expect": "pickup"},
    "no_short_final_bar": {"cell": "bars_fit_meter", "replace": [("if i == 0 or i == len(bars) - 1:", "if i == 0:")],
                           "expect": "short final bar"},
    "edges_any_length": {"cell": "bars_fit_meter", "replace": [(_EDGE, "fits.append(length > 1e-6)")],
                         "expect": "longer than a full bar"},
    "empty_edge_bar": {"cell": "bars_fit_meter", "replace": [(_EDGE, "fits.append(length <= full + 1e-6)")],
                       "expect": "empty first or last bar"},
    "no_common_time": {"cell": "bars_fit_meter", "replace": [('meter = {"C": "4/4", "C|": "2/2"}.get(meter, meter)', "")],
                       "expect": "common time"},
    "meter_not_checked": {"cell": "bars_fit_meter", "code": (
        "def bars_fit_meter(bars, meter):\n"
        "    meter = {'C': '4/4', 'C|': '2/2'}.get(meter, meter)\n"
        "    n, d = meter.split('/')\n"
        "    full = int(n or 0) * 4 / int(d or 1)\n"
        "    out = []\n"
        "    for i, bar in enumerate(bars):\n"
        "        length = sum(bar)\n"
        "        edge = i in (0, len(bars) - 1)\n"
        "        out.append(1e-6 < length <= full + 1e-6 if edge else abs(length - full) <= 1e-6)\n"
        "    return out"), "expect": "raise ValueError"},
    # (c) report_errors
    "signed_percent": {"cell": "report_errors", "replace": [('abs(float(number) - abs(record["change_pct"]))',
                                                             'abs(float(number) - record["change_pct"])')],
                       "expect": "the sign is the direction word's job"},
    "exact_percent": {"cell": "report_errors", "replace": [('> 0.05 + 1e-9:\n            errors.append(("percent"',
                                                            '> 1e-9:\n            errors.append(("percent"')],
                      "expect": "allow 0.05"},
    "close_only": {"cell": "report_errors", "replace": [('prices = (record["close"], record["high"], record["low"])',
                                                         'prices = (record["close"],)')], "expect": "the high or the low"},
    "own_ticker_flagged": {"cell": "report_errors", "replace": [('if word in TICKERS and word != record["ticker"]:',
                                                                 "if word in TICKERS:")], "expect": "own ticker"},
    "direction_case_sensitive": {"cell": "report_errors", "replace": [
        ("(word.lower() in UP_WORDS and change <= 0) or (word.lower() in DOWN_WORDS and change >= 0)",
         "(word in UP_WORDS and change <= 0) or (word in DOWN_WORDS and change >= 0)")], "expect": "any case"},
    "direction_substrings": {"cell": "report_errors", "replace": [(
        '    for word in re.findall(r"[A-Za-z]+", report):\n        if (word.lower() in UP_WORDS and change <= 0) or (word.lower() in DOWN_WORDS and change >= 0):\n            errors.append(("direction", word))',
        '    for word in UP_WORDS + DOWN_WORDS:\n        for found in re.findall(word, report, flags=re.IGNORECASE):\n'
        '            if (word in UP_WORDS and change <= 0) or (word in DOWN_WORDS and change >= 0):\n'
        '                errors.append(("direction", found))')], "expect": "whole words"},
    "price_commas_ignored": {"cell": "report_errors", "replace": [(r'r"\$\s*(\d[\d,]*(?:\.\d+)?)"', r'r"\$\s*(\d+(?:\.\d+)?)"')],
                             "expect": "thousands comma"},
    "missing_field_not_checked": {"cell": "report_errors", "replace": [(
        'for field in ("ticker", "change_pct", "close", "high", "low"):', 'for field in ():')],
        "expect": "naming the field"},
    "lowercase_only_direction_in_list": {"cell": "report_errors", "replace": [
        ("(word.lower() in UP_WORDS and change <= 0) or (word.lower() in DOWN_WORDS and change >= 0)",
         "(word.lower() in UP_WORDS and change < 0) or (word.lower() in DOWN_WORDS and change > 0)")],
        "expect": "not positive"},
    "report_imports_library": {"cell": "report_errors", "replace": [
        ("def report_errors(report, record):", "from course_lib.reports.checker import _close_enough\n\ndef report_errors(report, record):"),
        ('if abs(float(number) - abs(record["change_pct"])) > 0.05 + 1e-9:',
         'if not _close_enough(number, abs(record["change_pct"])):')], "expect": "course_lib"},
}

HONEST = {
    "keep_known_where": {"cell": "keep_known", "code": """
def keep_known(x_prev, x_known, mask, t_prev, abar, noise):
    values = set(mask.flatten().tolist())
    if not values <= {0.0, 1.0}:
        raise ValueError(f"mask values must be 0 or 1, found {sorted(values)}")
    if 0.0 not in values:
        raise ValueError("nothing to regenerate: the mask has no zero")
    alpha_bar = 1.0 if t_prev < 0 else float(abar[t_prev])
    known = math.sqrt(alpha_bar) * x_known + math.sqrt(1.0 - alpha_bar) * noise if t_prev >= 0 else x_known
    return torch.where(mask.bool(), known, x_prev)
"""},
    "keep_known_index": {"cell": "keep_known", "code": """
def keep_known(x_prev, x_known, mask, t_prev, abar, noise):
    if ((mask != 0) & (mask != 1)).any():
        raise ValueError("mask must be binary (0 = regenerate, 1 = keep)")
    if mask.min() == 1:
        raise ValueError("mask keeps every pixel: nothing to regenerate")
    if t_prev >= 0:
        x_known = abar[t_prev] ** 0.5 * x_known + (1 - abar[t_prev]) ** 0.5 * noise
    keep = mask.expand_as(x_prev).bool()          # (B, C, H, W)
    out = x_prev.clone()
    out[keep] = x_known[keep]
    return out
"""},
    "bars_fractions": {"cell": "bars_fit_meter", "code": """
from fractions import Fraction

def bars_fit_meter(bars, meter):
    names = {"C": (4, 4), "C|": (2, 2)}
    if meter in names:
        n, d = names[meter]
    else:
        parts = meter.split("/") if isinstance(meter, str) else []
        if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"expected a meter like '3/4', 'C' or 'C|', got {meter!r}")
        n, d = int(parts[0]), int(parts[1])
    bar_length = Fraction(4 * n, d)
    result = []
    last = len(bars) - 1
    for i, bar in enumerate(bars):
        total = sum(Fraction(x).limit_denominator(1000) for x in bar)
        if i in (0, last):
            result.append(0 < total <= bar_length)
        else:
            result.append(total == bar_length)
    return result
"""},
    "bars_isclose": {"cell": "bars_fit_meter", "code": """
def bars_fit_meter(bars, meter):
    if meter == "C":
        meter = "4/4"
    elif meter == "C|":
        meter = "2/2"
    m = re.match(r"^(\\d+)/(\\d+)$", meter)
    if m is None or int(m[1]) < 1 or int(m[2]) < 1:
        raise ValueError(f"unknown meter {meter!r}: use n/d, C or C|")
    full = 4 * int(m[1]) / int(m[2])
    out = []
    for i, bar in enumerate(bars):
        total = math.fsum(bar)
        if 0 < i < len(bars) - 1:
            out.append(math.isclose(total, full, abs_tol=1e-6))
        else:
            out.append(total > 1e-6 and total < full + 1e-6)
    return out
"""},
    "report_one_pass": {"cell": "report_errors", "code": """
def report_errors(report, record):
    missing = [k for k in ("ticker", "change_pct", "close", "high", "low") if k not in record]
    if missing:
        raise ValueError(f"record is missing {missing}")
    change = record["change_pct"]
    out = []
    pattern = r"\\$\\s*([0-9][0-9,]*(?:\\.[0-9]+)?)|([0-9]+(?:\\.[0-9]+)?)\\s*%|\\b([A-Za-z]+)\\b"
    for m in re.finditer(pattern, report):
        price, pct, word = m.groups()
        if price is not None:
            v = float(price.replace(",", ""))
            if min(abs(v - record[k]) for k in ("close", "high", "low")) > 0.005 + 1e-9:
                out.append(("price", v))
        elif pct is not None:
            if abs(float(pct) - abs(change)) > 0.05 + 1e-9:
                out.append(("percent", float(pct)))
        elif word in TICKERS and word != record["ticker"]:
            out.append(("ticker", word))
        elif word.lower() in UP_WORDS and not change > 0:
            out.append(("direction", word))
        elif word.lower() in DOWN_WORDS and not change < 0:
            out.append(("direction", word))
    return out
"""},
    "report_word_boundaries": {"cell": "report_errors", "code": """
def report_errors(report, record):
    for key in ("ticker", "change_pct", "close", "high", "low"):
        if key not in record:
            raise ValueError(f"missing field {key!r} in record")
    errors = []
    for t in TICKERS:
        if t != record["ticker"]:
            errors += [("ticker", t)] * len(re.findall(rf"\\b{t}\\b", report))
    for p in re.findall(r"(\\d+(?:\\.\\d+)?)%", report.replace(" %", "%")):
        if round(abs(float(p) - abs(record["change_pct"])), 9) > 0.05:
            errors.append(("percent", float(p)))
    for raw in re.findall(r"\\$([\\d,]+(?:\\.\\d+)?)", report):
        v = float(raw.replace(",", ""))
        if not any(abs(v - record[k]) <= 0.005 + 1e-9 for k in ("close", "high", "low")):
            errors.append(("price", v))
    c = record["change_pct"]
    wrong = (UP_WORDS if c <= 0 else ()) + (DOWN_WORDS if c >= 0 else ())
    for w in wrong:
        errors += [("direction", m) for m in re.findall(rf"\\b{w}\\b", report, flags=re.IGNORECASE)]
    return errors
"""},
}
