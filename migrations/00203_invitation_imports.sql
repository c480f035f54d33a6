-- +goose Up
-- A CSV upload of invitations, imported in the background so the admin can
-- watch its progress. The import itself is one transaction (all or
-- nothing); this row is updated outside it to report progress.
CREATE TABLE invitation_imports (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations(id),
    created_by       uuid NOT NULL REFERENCES users(id),
    status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    total_rows       integer NOT NULL DEFAULT 0,
    done_rows        integer NOT NULL DEFAULT 0,
    invited          integer NOT NULL DEFAULT 0,
    errors           jsonb NOT NULL DEFAULT '[]',
    message          text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX invitation_imports_org_idx ON invitation_imports (organisation_id, created_at DESC);

-- +goose Down
DROP TABLE invitation_imports;
