"""user-center-mock: issues the RS256 tokens the services verify (see `app.py`)."""
