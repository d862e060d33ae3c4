"""`make chaos`: the panel under worker crashes and a faulty provider, then checked.

It starts its own stack (PostgreSQL database, gunicorn, a Celery worker and beat on Redis, the
sandbox provider with latency and every fault at about 10 %), places orders through /api/v2 from
several resellers while it SIGKILLs the worker's process group at random moments, lets the
stack settle and checks the invariants docs/reliability.md lists. Exits non-zero on a violation.
"""
