"""`make chaos`: the panel under crashes of every process and server, then checked.

It starts its own stack (a PostgreSQL cluster and a Redis server of its own, gunicorn, two
Celery workers and beat, the sandbox provider with latency and every fault at about 10 %), runs
a mixed load (resellers on /api/v2, customers in the browser, bank and card payments, the
affiliates' settle pass) while a killer crashes a worker, both workers, beat, a web process,
PostgreSQL or Redis at random moments, lets the stack settle and checks the invariants
docs/reliability.md lists. Exits non-zero on a violation.
"""
