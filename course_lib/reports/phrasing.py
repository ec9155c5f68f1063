"""Report templates in many human-like phrasings, seeded, for four formats chosen by a control code.

Each fact has dozens of phrasings (openers x subjects x verbs x number forms); optional facts are left
out at random and sentence order varies, so a model trained on (record -> report) pairs must learn the
language, not one frame. Templates hold placeholders (course_lib.reports.delex); `write` fills them.
`template_text` is the single-template baseline: the same frame for every record.

Every phrasing keeps to rules the checker relies on: a price follows its cue word ("opened", "closed",
"high", "low", "from", "to"), a percentage is the record's own change, and a comparison sentence names
exactly one ticker.
"""
from __future__ import annotations

import random

from course_lib.data.stocks import WeekRecord, record_from_dict
from course_lib.reports.delex import fill

FORMATS = ("report", "headline", "post", "script")

OPENERS = ["", "In the week of <WEEKTEXT>, ", "For the week of <WEEK>, ", "Over the week starting <WEEKTEXT>, ",
           "This week (<WEEK>), ", "During the week of <WEEKTEXT>, ", "In the trading week from <WEEKTEXT>, ",
           "Week of <WEEK>: "]
SUBJECTS = ["<TICKER>", "<NAME>", "<NAME> (<TICKER>)", "Shares of <NAME>", "<NAME> stock", "<TICKER> shares",
            "<NAME> shares"]
MOVES = {
    "up": ["rose <CHANGE>%", "gained <CHANGE>%", "climbed <CHANGE>%", "advanced <CHANGE>%", "rallied <CHANGE>%",
           "added <CHANGE>%", "jumped <CHANGE>%", "rose <CHANGE> percent", "gained <CHANGE> percent",
           "edged up <CHANGE>%", "finished <CHANGE>% higher", "ended the week <CHANGE>% higher",
           "posted a gain of <CHANGE>%", "moved <SCHANGE>%", "changed by <SCHANGE>% (a gain)"],
    "down": ["fell <CHANGE>%", "slipped <CHANGE>%", "dropped <CHANGE>%", "declined <CHANGE>%", "lost <CHANGE>%",
             "slid <CHANGE>%", "sank <CHANGE>%", "fell <CHANGE> percent", "eased <CHANGE>%", "retreated <CHANGE>%",
             "finished <CHANGE>% lower", "ended the week <CHANGE>% lower", "posted a loss of <CHANGE>%",
             "moved <SCHANGE>%", "changed by <SCHANGE>% (a loss)"],
    "flat": ["was flat", "was little changed", "ended the week unchanged", "held steady", "moved <SCHANGE>%",
             "was flat at <SCHANGE>%"],
}
PRICES = [" from $<OPEN> to $<CLOSE>", ", closing at $<CLOSE>", " to close at $<CLOSE>", " to $<CLOSE>",
          ", ending the week at $<CLOSE>", " and settled at $<CLOSE>"]
OPEN_CLOSE = ["It opened the week at $<OPEN> and closed at $<CLOSE>.", "The stock started at $<OPEN> and ended at $<CLOSE>.",
              "Opening at $<OPEN>, it finished the week at $<CLOSE>.", "It began the week at $<OPEN>.",
              "The week started at $<OPEN> and ended at $<CLOSE>.", "It closed Friday at $<CLOSE>.",
              "The shares ended at $<CLOSE>, from $<OPEN> at the start.", "It finished at $<CLOSE>."]
HIGH_LOW = ["It traded between a low of $<LOW> and a high of $<HIGH>.", "The week's high was $<HIGH> and its low $<LOW>.",
            "Its weekly high was $<HIGH>.", "It touched a low of $<LOW> along the way.",
            "The stock peaked at $<HIGH>.", "Closes ranged from a low of $<LOW> to a high of $<HIGH>.",
            "Its lowest point of the week was $<LOW>, its highest $<HIGH>.", "The weekly high came at $<HIGH>."]
SELF_BEST = ["It was the best performer of the four.", "That made it the week's top performer.",
             "It led the group this week.", "No other of the four did better: it was the strongest."]
SELF_WORST = ["It was the worst performer of the four.", "That made it the week's weakest of the four.",
              "It lagged the group this week.", "It was the weakest of the four names."]
OTHER_BEST = ["<BEST> was the best performer of the four.", "The week's top performer was <BESTNAME>.",
              "<BESTNAME> led the group.", "Among the four, <BEST> was the strongest."]
OTHER_WORST = ["<WORST> was the worst performer of the four.", "The weakest of the four was <WORSTNAME>.",
               "<WORSTNAME> lagged the group.", "Among the four, <WORST> was the weakest."]
HEADLINES = {"up": ["<NAME> rises <CHANGE>% in week of <WEEKTEXT>", "<TICKER> gains <CHANGE>%, closes at $<CLOSE>",
                    "<NAME> climbs <CHANGE>% to $<CLOSE>", "<TICKER> up <CHANGE>% for the week",
                    "Weekly: <NAME> advances <CHANGE>%", "<NAME> shares jump <CHANGE>% (<WEEK>)"],
             "down": ["<NAME> falls <CHANGE>% in week of <WEEKTEXT>", "<TICKER> slips <CHANGE>%, closes at $<CLOSE>",
                      "<NAME> drops <CHANGE>% to $<CLOSE>", "<TICKER> down <CHANGE>% for the week",
                      "Weekly: <NAME> declines <CHANGE>%", "<NAME> shares slide <CHANGE>% (<WEEK>)"],
             "flat": ["<NAME> flat in week of <WEEKTEXT>", "<TICKER> unchanged, closes at $<CLOSE>",
                      "<NAME> holds steady for the week", "Weekly: <TICKER> little changed"]}
HOSTS = [("HOST", "ANALYST"), ("ANCHOR", "REPORTER"), ("NARRATOR", "EXPERT")]
INTROS = ["Let's look at <NAME> this week.", "How did <NAME> do this week?", "Time for <TICKER>.",
          "Next: <NAME>, week of <WEEKTEXT>.", "What happened to <TICKER> shares?"]


def _check(rec, fmt) -> WeekRecord:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return rec if isinstance(rec, WeekRecord) else record_from_dict(rec)


def _movement(r: WeekRecord, rng: random.Random, with_price: bool) -> str:
    move = rng.choice(MOVES[r.direction])
    price = rng.choice(PRICES) if with_price else ""
    opener, subject = rng.choice(OPENERS), rng.choice(SUBJECTS)
    if opener and subject.startswith("Shares"):
        subject = "s" + subject[1:]
    return f"{opener}{subject} {move}{price}."


def _comparison(r: WeekRecord, rng: random.Random) -> str:
    if r.ticker == r.best:
        return rng.choice(SELF_BEST)
    if r.ticker == r.worst:
        return rng.choice(SELF_WORST)
    return rng.choice(OTHER_BEST if rng.random() < 0.5 else OTHER_WORST)


def write_template(rec: WeekRecord | dict, fmt: str = "report", rng: random.Random | None = None) -> str:
    """One varied template (with placeholders) for the record in the format: report, headline, post, script."""
    r, rng = _check(rec, fmt), rng or random.Random(0)
    if fmt == "headline":
        return rng.choice(HEADLINES[r.direction])
    first = _movement(r, rng, with_price=rng.random() < 0.5)
    if fmt == "post":
        tags = rng.choice(["", " #<TICKER>", " #stocks #<TICKER>", " #markets"])
        extra = rng.choice(["", " " + rng.choice(OPEN_CLOSE + HIGH_LOW)])
        return first + extra + tags
    optional = [s for s, p in ((rng.choice(OPEN_CLOSE), 0.6), (rng.choice(HIGH_LOW), 0.5),
                               (_comparison(r, rng), 0.6)) if rng.random() < p]
    rng.shuffle(optional)
    if fmt == "script":
        a, b = rng.choice(HOSTS)
        lines = [f"{a}: {rng.choice(INTROS)}", f"{b}: {first}" + (" " + optional[0] if optional else "")]
        return "\n".join(lines)
    return " ".join([first] + optional[:2])


def write(rec: WeekRecord | dict, fmt: str = "report", rng: random.Random | None = None) -> str:
    """A varied, filled text for the record (`write_template` then `fill`)."""
    return fill(write_template(rec, fmt, rng), rec)


BASELINE = {"report": "<TICKER> moved <SCHANGE>% in the week of <WEEK>, from $<OPEN> to $<CLOSE>.",
            "headline": "<TICKER> <SCHANGE>% in week of <WEEK>",
            "post": "<TICKER> moved <SCHANGE>% in the week of <WEEK>, from $<OPEN> to $<CLOSE>. #<TICKER>",
            "script": "HOST: <TICKER> this week.\nANALYST: <TICKER> moved <SCHANGE>% in the week of <WEEK>, "
                      "from $<OPEN> to $<CLOSE>."}


def template_text(rec: WeekRecord | dict, fmt: str = "report") -> str:
    """The single-template baseline: the same frame for every record, filled (always true, never varied)."""
    r = _check(rec, fmt)
    return fill(BASELINE[fmt], r)
