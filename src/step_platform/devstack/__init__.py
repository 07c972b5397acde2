"""Start the chain as local processes: Postgres provider, services, nginx, health waits."""
