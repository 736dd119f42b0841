-- Users and their API keys. The API secret is needed in clear to verify HMAC signatures, so it
-- is stored encrypted (AES-256-GCM, key outside the database: SECRET_ENCRYPTION_KEY or
-- $DATA_DIR/secret-key); a database dump alone does not reveal any secret.
CREATE TABLE users (
  id          bigint GENERATED ALWAYS AS IDENTITY (START WITH 1) PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  api_key           text PRIMARY KEY,
  user_id           bigint NOT NULL REFERENCES users (id),
  -- iv (12 bytes) || auth tag (16 bytes) || ciphertext
  secret_encrypted  bytea NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  revoked_at        timestamptz
);

CREATE INDEX api_keys_user_id ON api_keys (user_id);
