"""Writing from data: weekly stock reports, and how true they are to their record (notebook 10, part 3).

One job per module:
- `phrasing`   a seeded generator of varied, human-like report templates (and a single-template baseline),
               for four formats chosen by control codes: report, headline, post, script
- `delex`      placeholders (<CLOSE>, <TICKER>, ...): fill them from a record, or take a text back to them
- `checker`    extract every number, ticker, date, direction word and comparison from a text, compare
               with the record: per-text error lists and an error-rate summary (hallucination)
- `perturb`    change exactly one fact of a correct text (to prove the checker catches it)
- `diversity`  distinct-n
- `constrained` the token bans of constrained decoding (no word that contradicts the record)
The model (the course GPT conditioned on a linearised record) is trained in course_lib.recipes.data_to_text;
the records come from course_lib.data.stocks.

    from course_lib.data.stocks import weekly_records
    rec = weekly_records()[100]
    text = write(rec, "report", random.Random(0))        # a filled report
    check(text, rec)                                     # [] (no errors)
"""
from course_lib.reports.checker import check, error_summary, format_ok, LIMITS
from course_lib.reports.delex import PLACEHOLDERS, delexicalise, fill
from course_lib.reports.diversity import distinct_n
from course_lib.reports.phrasing import FORMATS, template_text, write, write_template
from course_lib.reports.perturb import perturb

__all__ = ["check", "error_summary", "format_ok", "LIMITS", "PLACEHOLDERS", "delexicalise", "fill", "distinct_n",
           "FORMATS", "template_text", "write", "write_template", "perturb"]
