#!/bin/bash
# The seed: gunicorn -b 0.0.0.0:8080 --workers 2 step.wsgi
exec uvicorn --host 0.0.0.0 --port 8080 --workers 2 --factory step_platform.asgi:step \
  --no-access-log --proxy-headers --forwarded-allow-ips='*'
