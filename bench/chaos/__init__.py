"""`make chaos`: the panel under crashes of every process and server, then checked.

It starts its own stack (a PostgreSQL cluster and a Redis server of its own, gunicorn, two
Celery workers and beat, the sandbox provider with latency and every fault at about 10 %), runs
a mixed load (resellers on /api/v2, customers in the browser, a child panel's customers through
their parent, bank and card payments and chargebacks, the affiliates' settle pass and payouts,
resellers' status webhooks, a customer in the Telegram bot) while a killer crashes a worker,
both workers, beat, a web process, gunicorn's master, PostgreSQL or Redis, at random moments or
aimed at named work in flight, lets the stack settle and checks the invariants
docs/reliability.md lists. Exits non-zero on a violation.
"""
