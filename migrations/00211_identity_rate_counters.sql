-- +goose Up
-- Fixed-window counters for quotas that are not sign-in failures (the
-- invitations a person or an organisation may send): one row per key and
-- window, older windows of a key deleted when it is next counted.
CREATE TABLE rate_counters (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (key, window_start)
);

-- +goose Down
DROP TABLE rate_counters;
