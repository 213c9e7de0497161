"""The jobs that make the served model: train, evaluate, register, batch score (MLproject entry points).

`steps/*.py` parse the MLproject parameters into a validated `config` object and call one job.
Data flows one way: `data` (validated DataFrame) -> `augment` -> `training` (token batches, model,
companion, runtime, packaging) -> `evaluation`, `fairness`, `metrics` -> `registry`.
"""
