"""Kiln's code sandbox: user code and Jinja2 templates run in confined child processes,
never in the server. The engine uses `app.sandbox.base` (`CodeSandbox`, `build_sandbox`);
this package file stays empty so the worker process imports nothing it does not need."""
