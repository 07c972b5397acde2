#!/bin/bash
# The seed: gunicorn -b 0.0.0.0:8080 --workers 2 step.wsgi
# two workers: /metrics sums both through a directory they share, fresh for each start
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
exec uvicorn --host 0.0.0.0 --port 8080 --workers 2 --factory step_platform.asgi:step \
  --no-access-log --proxy-headers --forwarded-allow-ips='*' --timeout-graceful-shutdown 3
