#!/bin/bash
# The seed: gunicorn -b 0.0.0.0:8001 --workers 2 configs_service.wsgi
exec uvicorn --host 0.0.0.0 --port 8001 --workers 2 --factory step_platform.asgi:configs \
  --no-access-log --proxy-headers --forwarded-allow-ips='*'
