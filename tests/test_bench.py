from course_lib import bench


def test_table_keeps_every_figure_of_unlike_rows():
    rows = [{"dataset": "grid", "steps": 10, "modes": "25/25", "target": ">= 24", "met": "yes"},
            {"dataset": "digits", "steps": 20, "fd": 3.1, "fd_ratio": 1.9, "target": "<= 2x", "met": "yes"}]
    header, rule, *body = bench.table(rows)
    assert header == "| dataset | steps | measured | target | met |"
    assert rule == "|---|---|---|---|---|"
    assert body == ["| grid | 10 | modes 25/25 | >= 24 | yes |",
                    "| digits | 20 | fd 3.1; fd_ratio 1.9 | <= 2x | yes |"]


def test_table_of_like_rows_has_no_measured_column():
    rows = [{"what": "a", "value": 1, "met": "no"}, {"what": "b", "value": 2, "met": "yes"}]
    assert bench.table(rows) == ["| what | value | met |", "|---|---|---|", "| a | 1 | no |", "| b | 2 | yes |"]
