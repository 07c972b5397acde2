"""The configs registry: typed objects (configs, links) in Postgres, one generic engine."""
