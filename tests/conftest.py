"""Test-wide settings, applied at import time so every test (and every notebook kernel that nbval
starts, which inherits this environment) runs in fast, headless mode with a throw-away data cache."""
import atexit
import os
import shutil
import tempfile

os.environ["COURSE_FAST"] = "1"
os.environ["MPLBACKEND"] = "Agg"
os.environ["COURSE_HEADLESS"] = "1"  # course_lib.widgets: no widget front end, draw the static figure
if not os.environ.get("COURSE_DATA_DIR"):
    # One cache per test session: tests never touch the user's ~/.cache/genai-course.
    _data_dir = tempfile.mkdtemp(prefix="genai-course-test-data-")
    os.environ["COURSE_DATA_DIR"] = _data_dir
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
