# /etc/jupyter/nbgrader_config.py in the course image (deploy/Dockerfile): read by every student's and
# grader's server. The exchange is a volume shared by all pods (deploy/z2jh/config.yaml mounts it here).
c = get_config()  # noqa: F821 (nbgrader's config loader defines it)
c.CourseDirectory.course_id = "genai-course"
c.Exchange.root = "/srv/nbgrader/exchange"
