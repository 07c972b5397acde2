#!/bin/bash
# The seed: gunicorn -b 0.0.0.0:8002 --workers 2 registry_factory.wsgi
# Migrations run first (the seed ran `python manage.py migrate` by hand); they take an
# advisory lock, so several replicas may start at once.
set -e
step-platform migrate
# two workers: /metrics sums both through a directory they share, fresh for each start
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
exec uvicorn --host 0.0.0.0 --port 8002 --workers 2 --factory step_platform.asgi:registry \
  --no-access-log --proxy-headers --forwarded-allow-ips='*' --timeout-graceful-shutdown 3
