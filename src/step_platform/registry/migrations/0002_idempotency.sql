-- Answers of writes sent with an Idempotency-Key (core/idempotency.py, registry/idempotency.py).
-- A row is written in the same transaction as the write it answers: both or neither commit.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    status integer NOT NULL DEFAULT 0,
    headers jsonb NOT NULL DEFAULT '[]',
    body bytea NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created);
