"""raida-mock: a stateful simulator of the Raida task tracker API (see `app.py`)."""
