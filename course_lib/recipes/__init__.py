"""How each model family is trained here: the defaults that did best in benchmarks/, training on a step
or time budget, and the `genai-course train FAMILY` / `genai-course sample CKPT` adapters
(`cli_train`, `cli_sample`). The models themselves (networks, loss, sampling) are in course_lib.models."""
