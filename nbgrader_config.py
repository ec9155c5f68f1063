# nbgrader configuration for the course. Run nbgrader commands from the repository root.
# course_lib.grading reads this file too, so `nbgrader ...` and `genai-course release` agree.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "genai-course"

# nbgrader's folders mapped onto the repository layout (the root stays the folder nbgrader runs in):
#   source  -> solutions/   instructor notebooks with solutions and hidden tests
#   release -> exercises/   the student copies, generated: `python -m course_lib.grading release --all`
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Seconds per cell when validating and autograding. A student's infinite loop is interrupted after this
# and grading goes on with the next cell and the next student. Tests pass a shorter value.
c.Execute.timeout = 30

# Solution regions become nbgrader's default stub, "# YOUR CODE HERE" + `raise NotImplementedError()`;
# course_lib.grading tags those release cells `raises-exception` so nbval still runs the release.
