"""The tools around the service: the benchmark, the local stack and their helpers.

Not part of the installed package: run them from the repository root (`python -m tools.bench`,
`python -m tools.stack up`, or through the Makefile).
"""
