"""Ethics of generative AI (notebooks 14 and 15): each claim measured on the course's own models and data.

- `licences`    audit the course's training data: source package, its licence from the installed metadata,
                the stated data licence and what it permits (commercial use, attribution, share-alike)
- `work`        a task-exposure exercise after Eloundou et al. (2023): task statements, the E0/E1/E2 rubric,
                reference ratings, exposure scores per occupation, agreement and Cohen's kappa with a student
"""
