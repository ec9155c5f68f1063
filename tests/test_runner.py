"""The notebook runner keeps committed outputs readable: one final state per progress bar."""
import nbformat

from course_lib.runner import squash_progress


def test_progress_bars_keep_their_last_state_only():
    v4 = nbformat.v4
    nb = v4.new_notebook()
    bars = [v4.new_output("stream", name="stderr", text=t)
            for t in ("\rGPT:   0%|          | 0/10", "\rGPT:  50%|#####     | 5/10", "\rGPT: 100%|##########| 10/10\n")]
    printed = v4.new_output("stream", name="stdout", text="10 steps in 1 s\n")
    warning = v4.new_output("stream", name="stderr", text="UserWarning: something real\n")
    nb.cells = [v4.new_code_cell("train()", outputs=[*bars, printed, warning]), v4.new_markdown_cell("text")]
    assert squash_progress(nb) == 2
    outs = nb.cells[0].outputs
    assert [o.text for o in outs] == ["GPT: 100%|##########| 10/10\n", "10 steps in 1 s\n",
                                      "UserWarning: something real\n"]
    assert squash_progress(nb) == 0  # idempotent
