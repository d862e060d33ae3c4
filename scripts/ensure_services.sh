#!/usr/bin/env bash
# Make sure Redis answers on 127.0.0.1 (started when installed but stopped), and the machine's
# PostgreSQL on 127.0.0.1:5432 when there is one. The tests need Redis; PostgreSQL they find
# here or, without one, `make test` starts the embedded one (scripts/test.py).
set -uo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

pg_up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] \
  && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version ..."
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
fi

if ! command -v redis-server >/dev/null 2>&1 && ! redis_up; then
  echo "error: Redis is not installed and nothing answers on 127.0.0.1:$REDIS_PORT. The tests need it: apt-get install redis-server" >&2
  exit 1
fi
if ! redis_up; then
  echo "starting Redis ..."
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
  if ! redis_up; then
    echo "error: Redis does not answer on 127.0.0.1:$REDIS_PORT and could not be started." >&2
    exit 1
  fi
fi

if pg_up; then
  # The database the test settings name; pytest-django creates its test_ copies from here.
  if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "select 1 from pg_database where datname='smm_panel'" 2>/dev/null | grep -q 1; then
    createdb -h "$PGHOST" -p "$PGPORT" -U postgres smm_panel || { echo "error: could not create database smm_panel as user postgres" >&2; exit 1; }
  fi
  echo "PostgreSQL on $PGHOST:$PGPORT and Redis on 127.0.0.1:$REDIS_PORT are up"
else
  echo "Redis on 127.0.0.1:$REDIS_PORT is up; no PostgreSQL on $PGHOST:$PGPORT (the tests start the embedded one unless DATABASE_URL names a server)"
fi
