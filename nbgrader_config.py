# nbgrader configuration for the course. Run nbgrader commands from the repository root.
# course_lib.grading and course_lib.gradebook read this file too, so `nbgrader ...` and the instructor
# verbs of `genai-course` (assign, collect, autograde, feedback, grades, status) agree.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "genai-course"

# nbgrader's folders mapped onto the repository layout (the root stays the folder nbgrader runs in):
#   source  -> solutions/   instructor notebooks with solutions and hidden tests (PUBLIC in the open repo)
#   release -> exercises/   the student copies, generated and validated: `genai-course assign --all`
# submitted/, autograded/, feedback/ and gradebook.db are nbgrader's defaults (git-ignored).
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Seconds per cell when validating and autograding. A student's infinite loop is interrupted after this
# and grading goes on with the next cell and the next student. Tests pass a shorter value; so can
# `genai-course autograde --timeout N`. (The kernel's memory limit is `--memory-mb`, default 4096 MiB.)
c.Execute.timeout = 30

# A shared gradebook for several graders (see docs/instructor_guide.md), or pass --db URL to each verb:
# c.CourseDirectory.db_url = "postgresql://genai_grader:CHANGE-ME@db.example.edu:5432/genai_course"

# Solution regions become nbgrader's default stub, "# YOUR CODE HERE" + `raise NotImplementedError()`;
# course_lib.grading tags those release cells `raises-exception` so nbval still runs the release.
