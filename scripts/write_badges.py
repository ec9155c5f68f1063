"""Write every notebook's Colab badge and setup cell from pyproject.toml's [tool.genai-course] repository.

Run after adding a notebook or changing the repository URL:  python scripts/write_badges.py
(exercises/ are regenerated from solutions/ by `python -m course_lib.grading release --all`, which
writes their badges the same way.)
"""
from course_lib import badges

if __name__ == "__main__":
    changed = badges.write_all()
    print(f"{len(changed)} notebook(s) updated" + "".join(f"\n  {p}" for p in changed))
