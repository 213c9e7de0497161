"""The HTTP service around a loaded served model (`toxicity-serve`): three contracts, one process.

Imports the served wing only. `app` (routes), `schemas` (pydantic bodies, OpenAPI), `body`
(bounded reading, strict parsing), `guards` (keys, headers, access log), `runner` (the model off
the event loop, with deadlines), `perspective`, `openapi`, `page`, `settings`, `cli`.
"""
