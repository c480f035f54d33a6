-- +goose Up
-- The double-entry ledger (docs: /work/shared/design/ledger.md, package internal/ledger).
--
-- Sign convention: an entry's amount is signed in one universal direction,
-- credit positive and debit negative, so every transaction sums to zero per
-- asset and all entries of the ledger sum to zero. Balances are kept on the
-- account's normal side (credit-normal accounts: credits - debits; debit-normal:
-- debits - credits), which is what floors are checked against.
--
-- The write path is one PL/pgSQL call per ledger transaction (ledger_post,
-- ledger_capture, ledger_void, ledger_reverse): one round trip, row locks held
-- for microseconds, taken in a fixed order (plain accounts by id, then hot
-- ones). The entry points force generic plans: their statements' plans do
-- not depend on the values, and re-planning them on every call (PostgreSQL's
-- custom-plan heuristic picks that for jsonb arguments) costs more than
-- all their execution.

CREATE TABLE ledger_accounts (
    id           bigserial PRIMARY KEY,
    path         text NOT NULL UNIQUE CHECK (path ~ '^[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)*$' AND length(path) <= 200),
    asset        text NOT NULL DEFAULT 'EUR' CHECK (asset ~ '^[A-Z][A-Z0-9_]{1,15}$'),
    kind         text NOT NULL CHECK (kind IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    normal_side  text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
    floor        bigint,          -- minimum available balance; NULL: no floor
    lots         boolean NOT NULL DEFAULT false,  -- credits are lots, debits consume them
    shards       smallint NOT NULL DEFAULT 1 CHECK (shards BETWEEN 1 AND 64),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'frozen', 'closed')),
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT lots OR normal_side = 'credit')   -- lots are credit balances: wallets, fund accounts
);

-- Materialised balances on the normal side, one row per shard. Hot accounts
-- (fund pool, fees) have several shards: a credit increments one of them, a
-- debit locks them all. fillfactor leaves room for HOT updates.
CREATE TABLE ledger_balances (
    account_id   bigint NOT NULL REFERENCES ledger_accounts (id),
    shard        smallint NOT NULL,
    posted       bigint NOT NULL DEFAULT 0,
    pending_out  bigint NOT NULL DEFAULT 0 CHECK (pending_out >= 0 OR shard > 0),
    pending_in   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, shard)
) WITH (fillfactor = 50);

CREATE TABLE ledger_split_policies (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    version       int NOT NULL CHECK (version > 0),
    valid_from    timestamptz NOT NULL,
    fund_bps      int NOT NULL CHECK (fund_bps BETWEEN 0 AND 10000),
    fee_bps       int NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    remainder_to  text NOT NULL CHECK (remainder_to IN ('provider', 'fund', 'fee')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (fund_bps + fee_bps <= 10000),
    UNIQUE (name, version),
    UNIQUE (name, valid_from)
);

CREATE TABLE ledger_transactions (
    id               bigserial PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    request_hash     bytea NOT NULL,
    kind             text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),  -- format checked by the Go API
    status           text NOT NULL CHECK (status IN ('posted', 'pending', 'captured', 'voided', 'expired')),
    reference        text NOT NULL DEFAULT '',
    effective_at     timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz,            -- holds only
    resolved_at      timestamptz,            -- holds: when captured, voided or expired
    hold_id          bigint,                 -- captures: the hold they resolve
    reverses_id      bigint,                 -- reversals: the original
    policy_id        bigint,                 -- split transactions: the policy version applied
    split            jsonb,                  -- {gross, provider, fund, fee} of a split transaction
    metadata         jsonb NOT NULL DEFAULT '{}',
    -- The writing transaction's id orders the asynchronous hash chain: once
    -- every xid below X has finished, no new row can appear below X.
    writer_xid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((status = 'posted') = (expires_at IS NULL) OR status <> 'posted'),
    CHECK ((status IN ('posted', 'pending')) = (resolved_at IS NULL))
);
CREATE INDEX ledger_transactions_pending_idx ON ledger_transactions (expires_at) WHERE status = 'pending';
CREATE UNIQUE INDEX ledger_transactions_capture_idx ON ledger_transactions (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX ledger_transactions_reverses_idx ON ledger_transactions (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX ledger_transactions_chain_idx ON ledger_transactions (writer_xid, id);

-- The write-path tables carry no foreign keys on purpose: a foreign key
-- takes a KEY SHARE lock on the referenced row, which on the hot accounts
-- (and the split policy every redemption uses) turns each write into a
-- multixact and serialises them. The write functions resolve every
-- reference and `ledger verify` checks referential integrity.
CREATE TABLE ledger_entries (
    id            bigserial PRIMARY KEY,
    tx_id         bigint NOT NULL,
    account_id    bigint NOT NULL,
    amount        bigint NOT NULL CHECK (amount <> 0),   -- credit > 0, debit < 0
    effective_at  timestamptz NOT NULL
);
CREATE INDEX ledger_entries_tx_idx ON ledger_entries (tx_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);

-- Lots: wallet credits (origin, plan, categories, expiry) and fund
-- contributor lots. remaining changes as lots are consumed and restored;
-- every change is a row in ledger_lot_moves.
CREATE TABLE ledger_lots (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL,
    tx_id       bigint NOT NULL,                 -- the transaction that created it
    parent_id   bigint,                          -- carried over from / moved along from
    expires_at  timestamptz,
    categories  text[] NOT NULL DEFAULT '{}',    -- empty: any category
    attrs       jsonb NOT NULL DEFAULT '{}',     -- origin, plan, contributor, policy version …
    amount      bigint NOT NULL CHECK (amount > 0),
    remaining   bigint NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    -- live (remaining > 0) is what the partial indexes filter on, rather than
    -- remaining itself: an update of remaining that leaves the lot live
    -- changes no indexed value and stays a HOT update (no index inserts);
    -- only the update that empties or revives a lot touches the indexes.
    live        boolean GENERATED ALWAYS AS (remaining > 0) STORED,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_lots_spend_idx ON ledger_lots (account_id, expires_at, id) WHERE live;
CREATE INDEX ledger_lots_expiry_idx ON ledger_lots (expires_at) WHERE live AND expires_at IS NOT NULL;

-- amount > 0: consumed by tx_id; amount < 0: restored by tx_id, giving back
-- what against_tx had consumed (void, partial capture, refund).
CREATE TABLE ledger_lot_moves (
    tx_id       bigint NOT NULL,
    lot_id      bigint NOT NULL,
    amount      bigint NOT NULL CHECK (amount <> 0),
    against_tx  bigint
);
CREATE INDEX ledger_lot_moves_tx_idx ON ledger_lot_moves (tx_id);
CREATE INDEX ledger_lot_moves_against_idx ON ledger_lot_moves (against_tx) WHERE against_tx IS NOT NULL;
CREATE INDEX ledger_lot_moves_lot_idx ON ledger_lot_moves (lot_id);

-- The hash chain, sealed asynchronously by ledger_seal.
CREATE TABLE ledger_chain (
    seq    bigint PRIMARY KEY,
    tx_id  bigint NOT NULL UNIQUE,
    hash   bytea NOT NULL
);
CREATE TABLE ledger_chain_head (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq        bigint NOT NULL DEFAULT 0,
    last_xid   xid8 NOT NULL DEFAULT '0',
    last_tx    bigint NOT NULL DEFAULT 0,
    last_hash  bytea NOT NULL DEFAULT '\x'
);
INSERT INTO ledger_chain_head DEFAULT VALUES;

-- +goose StatementBegin
CREATE FUNCTION ledger_raise(p_code text, p_message text, p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- RL001 insufficient_funds, RL002 not_found, RL003 invalid, RL004 conflict;
    -- DETAIL is JSON with the fields the Go side puts in the error.
    RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, DETAIL = coalesce(p_detail, '{}')::text;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Immutability: entries, transactions and the chain are never updated or
-- deleted, by anyone; the one exception is a hold's guarded status change.
CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'ledger_transactions' THEN
        IF OLD.status = 'pending' AND NEW.status IN ('captured', 'voided', 'expired')
           AND OLD.resolved_at IS NULL AND NEW.resolved_at IS NOT NULL
           AND (to_jsonb(NEW) - 'status' - 'resolved_at') = (to_jsonb(OLD) - 'status' - 'resolved_at') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'RL005',
        MESSAGE = format('%s is append-only: %s refused', TG_TABLE_NAME, TG_OP);
END $$;
-- +goose StatementEnd

CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_lot_moves_immutable BEFORE UPDATE OR DELETE ON ledger_lot_moves
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_chain_immutable BEFORE UPDATE OR DELETE ON ledger_chain
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

-- +goose StatementBegin
-- ledger_split_parts divides gross by a policy: each share is rounded down
-- and the remainder (always < 3 cents) goes to the stated party, so the parts
-- sum to gross exactly. internal/ledger.SplitAmount is the same arithmetic.
-- A one-row SQL table function, so the planner inlines it where it is joined.
CREATE FUNCTION ledger_split_parts(gross bigint, fund_bps int, fee_bps int, remainder_to text)
RETURNS TABLE (provider bigint, fund bigint, fee bigint)
LANGUAGE sql IMMUTABLE ROWS 1 AS $$
    SELECT x.pv + CASE WHEN remainder_to NOT IN ('fund', 'fee') THEN x.rem ELSE 0 END,
           x.fd + CASE WHEN remainder_to = 'fund' THEN x.rem ELSE 0 END,
           x.fe + CASE WHEN remainder_to = 'fee' THEN x.rem ELSE 0 END
    FROM (SELECT y.pv, y.fd, y.fe, gross - y.pv - y.fd - y.fe AS rem
          FROM (SELECT gross * (10000 - fund_bps - fee_bps) / 10000 AS pv, gross * fund_bps / 10000 AS fd,
                       gross * fee_bps / 10000 AS fe) y) x
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_begin inserts the transaction row under its idempotency key. A key
-- seen before with the same request (op + body) returns the original id with
-- replayed = true; with a different request it is a conflict. A concurrent
-- writer of the same key waits on the unique index until the first commits
-- (then replays) or aborts (then inserts).
CREATE FUNCTION ledger_begin(p_op text, p jsonb, p_kind text, p_status text, p_hold bigint,
                             p_reverses bigint, p_policy bigint, p_split jsonb,
                             OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    k text := p->>'key';
    h bytea := sha256(convert_to(p_op || ':' || p::text, 'UTF8'));
    old_hash bytea;
BEGIN
    IF k IS NULL OR k = '' OR length(k) > 200 THEN
        PERFORM ledger_raise('RL003', 'an idempotency key of 1 to 200 characters is required', '{"field":"key"}');
    END IF;
    INSERT INTO ledger_transactions AS t (idempotency_key, request_hash, kind, status, reference, effective_at,
                                          expires_at, hold_id, reverses_id, policy_id, split, metadata)
    VALUES (k, h, coalesce(p->>'kind', p_kind), p_status, coalesce(p->>'reference', ''),
            coalesce((p->>'effective_at')::timestamptz, now()),
            CASE WHEN p_status = 'pending' THEN (p->>'expires_at')::timestamptz END,
            p_hold, p_reverses, p_policy, p_split, coalesce(p->'metadata', '{}'))
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING t.id INTO tx_id;
    IF tx_id IS NOT NULL THEN
        replayed := false;
        RETURN;
    END IF;
    SELECT t.id, t.request_hash INTO tx_id, old_hash FROM ledger_transactions t WHERE t.idempotency_key = k;
    IF old_hash <> h THEN
        PERFORM ledger_raise('RL004', 'this idempotency key was already used for a different request',
                             jsonb_build_object('key', k, 'transaction_id', tx_id));
    END IF;
    replayed := true;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_consume_lots takes p_amount from an account's lots: FIFO by expiry,
-- only unexpired lots whose categories allow p_category (p_only: exactly
-- these lots, expired or not — the expiry sweep; p_prefer: lots created by
-- these transactions first — reversals). The account's balance row is
-- already locked by the caller, which serialises every lot change of the
-- account. Returns the lots and amounts taken.
CREATE FUNCTION ledger_consume_lots(p_tx bigint, p_account bigint, p_path text, p_amount bigint,
                                    p_category text, p_only bigint[], p_prefer bigint[],
                                    OUT ids bigint[], OUT takes bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    need bigint := p_amount;
    r record;
    t bigint;
BEGIN
    ids := '{}'; takes := '{}';
    IF p_prefer IS NOT NULL THEN
        FOR r IN SELECT l.id, l.remaining FROM ledger_lots l
                 WHERE l.account_id = p_account AND l.live AND l.tx_id = ANY (p_prefer)
                 ORDER BY l.id
        LOOP
            t := least(r.remaining, need);
            ids := ids || r.id; takes := takes || t; need := need - t;
            EXIT WHEN need = 0;
        END LOOP;
    END IF;
    IF need > 0 THEN
        FOR r IN SELECT l.id, l.remaining FROM ledger_lots l
                 WHERE l.account_id = p_account AND l.live
                   AND (p_only IS NULL OR l.id = ANY (p_only))
                   AND (p_only IS NOT NULL OR l.expires_at IS NULL OR l.expires_at > now())
                   AND (p_category IS NULL OR l.categories = '{}' OR p_category = ANY (l.categories))
                   AND (p_prefer IS NULL OR NOT (l.tx_id = ANY (p_prefer)))
                 ORDER BY l.expires_at NULLS LAST, l.id
        LOOP
            t := least(r.remaining, need);
            ids := ids || r.id; takes := takes || t; need := need - t;
            EXIT WHEN need = 0;
        END LOOP;
    END IF;
    IF need > 0 THEN
        PERFORM ledger_raise('RL001',
            format('not enough spendable credit on %s%s', p_path,
                   CASE WHEN p_category IS NULL THEN '' ELSE ' for category ' || p_category END),
            jsonb_build_object('account', p_path, 'available', p_amount - need, 'required', p_amount,
                               'category', p_category));
    END IF;
    WITH u AS (
        UPDATE ledger_lots l SET remaining = l.remaining - x.t
        FROM unnest(ids, takes) AS x(id, t) WHERE l.id = x.id
        RETURNING l.id, x.t
    )
    INSERT INTO ledger_lot_moves (tx_id, lot_id, amount) SELECT p_tx, u.id, u.t FROM u;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_restore_lots gives back up to p_amount of what the p_origin
-- transactions consumed from the account's lots, latest expiry first, and
-- returns what could not be given back (the caller makes a plain lot of it).
CREATE FUNCTION ledger_restore_lots(p_by bigint, p_account bigint, p_amount bigint, p_origin bigint[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    need bigint := p_amount;
    r record;
    t bigint;
    ids bigint[] := '{}'; takes bigint[] := '{}'; against bigint[] := '{}';
BEGIN
    IF p_amount <= 0 THEN
        RETURN 0;
    END IF;
    FOR r IN SELECT m.lot_id, coalesce(m.against_tx, m.tx_id) AS consumer, sum(m.amount) AS net
             FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id
             WHERE l.account_id = p_account
               AND ((m.tx_id = ANY (p_origin) AND m.against_tx IS NULL) OR m.against_tx = ANY (p_origin))
             GROUP BY m.lot_id, coalesce(m.against_tx, m.tx_id), l.expires_at
             HAVING sum(m.amount) > 0
             ORDER BY l.expires_at DESC NULLS FIRST, m.lot_id DESC
    LOOP
        t := least(r.net, need);
        ids := ids || r.lot_id; takes := takes || t; against := against || r.consumer; need := need - t;
        EXIT WHEN need = 0;
    END LOOP;
    WITH u AS (
        UPDATE ledger_lots l SET remaining = l.remaining + x.t
        FROM unnest(ids, takes, against) AS x(id, t, a) WHERE l.id = x.id
        RETURNING l.id, x.t, x.a
    )
    INSERT INTO ledger_lot_moves (tx_id, lot_id, amount, against_tx) SELECT p_by, u.id, -u.t, u.a FROM u;
    RETURN need;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_apply moves the money of one transaction and returns how many
-- entries it wrote (callers assign the result rather than PERFORM the call:
-- an assignment is a simple expression, PERFORM a query). It resolves the
-- accounts, updates their balances in a fixed order (plain accounts by id,
-- then hot ones) with the floor checked in the same UPDATE, writes the entries, and keeps lots.
--
--   p_mode     post | hold | capture | void | reverse
--   p_postings [{from, to, amount, category?, lot?, only_lots?}] by account path
--   p_sides    [{id, u, rel}] by account id: u is a universal amount (credit +);
--              rel marks a hold's entry being released (capture, void)
--   p_origin   reversals and captures: the transactions whose lot
--              consumption a credit gives back
CREATE FUNCTION ledger_apply(p_tx bigint, p_eff timestamptz, p_mode text, p_postings jsonb,
                             p_sides jsonb, p_origin bigint[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    acc record;
    sgn int;
    dp bigint; dout bigint; din bigint;   -- normal-side changes of posted, pending_out, pending_in
    avail bigint;
    found_row boolean;
    entry_ids bigint[] := '{}';
    entry_amts bigint[] := '{}';
    assets text[] := '{}';
    lot_paths jsonb := '{}';       -- path -> account id, for lot-tracked accounts in this transaction
    consumed jsonb := '{}';        -- account id -> {ids, takes} for mirroring
    c record;
    r record;
    left_over bigint;
    n_lot_credits int := 0;
    pj jsonb;
    only_ids bigint[];
    -- the lot-tracked credits: account, source account, amount, lot spec
    cr_to bigint[] := '{}'; cr_from bigint[] := '{}'; cr_amt bigint[] := '{}'; cr_lot jsonb[] := '{}';
    cto bigint; cfrom bigint; camt bigint; clot jsonb;
BEGIN
    -- Loops over the few postings use PL/pgSQL's simple expressions, not
    -- queries: each query costs an executor start, which on this path
    -- costs more than the work it does.
    FOR i IN 0 .. coalesce(jsonb_array_length(p_postings), 0) - 1 LOOP
        pj := p_postings->i;
        IF pj->>'from' IS NULL OR pj->>'to' IS NULL OR pj->>'from' = pj->>'to'
           OR jsonb_typeof(pj->'amount') <> 'number' OR (pj->>'amount')::numeric <= 0
           OR (pj->>'amount')::numeric > 1000000000000 THEN
            PERFORM ledger_raise('RL003', 'every posting needs two different accounts and an amount between 1 cent and 10 billion euro',
                                 '{"field":"postings"}');
        END IF;
    END LOOP;
    FOR acc IN
        WITH ps AS (SELECT j FROM jsonb_array_elements(coalesce(p_postings, '[]')) j),
        sides AS (
            SELECT j->>'from' AS path, (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'from') AS id,
                   -(j->>'amount')::bigint AS u, false AS rel, j->>'category' AS cat,
                   j->'only_lots' AS only_lots, 1 AS n_out
            FROM ps
            UNION ALL
            SELECT j->>'to', (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'to'),
                   (j->>'amount')::bigint, false, NULL, NULL, 0
            FROM ps
            UNION ALL
            SELECT NULL, (s->>'id')::bigint, (s->>'u')::bigint, coalesce((s->>'rel')::boolean, false), NULL, NULL, 0
            FROM jsonb_array_elements(coalesce(p_sides, '[]')) s
        )
        SELECT a.id, a.path, a.asset, a.normal_side, a.floor, a.lots, a.shards, a.status,
               g.u_post, g.u_rel, g.cat, g.cat_max, g.n_out, g.only_lots, g.wanted
        FROM (SELECT s.id,
                     coalesce(sum(s.u) FILTER (WHERE NOT s.rel), 0)::bigint AS u_post,
                     coalesce(sum(s.u) FILTER (WHERE s.rel), 0)::bigint AS u_rel,
                     min(s.cat) AS cat, max(s.cat) AS cat_max, sum(s.n_out)::int AS n_out,
                     (array_agg(s.only_lots) FILTER (WHERE s.only_lots IS NOT NULL))[1] AS only_lots,
                     min(s.path) AS wanted
              FROM sides s GROUP BY s.id) g
        -- a lateral lookup per account (OFFSET 0 keeps it one): the planner
        -- cannot know the postings are few and would scan every account
        LEFT JOIN LATERAL (SELECT * FROM ledger_accounts x WHERE x.id = g.id OFFSET 0) a ON true
        -- lock order: plain accounts by id, then hot (sharded) ones by id, so a
        -- transaction never holds a hot shard while it waits for another row
        ORDER BY a.id IS NOT NULL, a.shards > 1, a.id
    LOOP
        IF acc.id IS NULL THEN
            PERFORM ledger_raise('RL002', format('unknown account %s', acc.wanted),
                                 jsonb_build_object('account', acc.wanted));
        END IF;
        IF acc.status <> 'open' AND (acc.u_post <> 0 AND p_mode NOT IN ('capture', 'void')) THEN
            PERFORM ledger_raise('RL004', format('account %s is %s', acc.path, acc.status),
                                 jsonb_build_object('account', acc.path, 'status', acc.status));
        END IF;
        IF acc.cat IS DISTINCT FROM acc.cat_max THEN
            PERFORM ledger_raise('RL003', format('postings from %s name different categories', acc.path),
                                 jsonb_build_object('account', acc.path));
        END IF;
        assets := assets || acc.asset;
        sgn := CASE WHEN acc.normal_side = 'credit' THEN 1 ELSE -1 END;
        dp := 0; dout := 0; din := 0;
        IF p_mode = 'hold' THEN
            IF acc.u_post * sgn < 0 THEN dout := -acc.u_post * sgn; ELSE din := acc.u_post * sgn; END IF;
            IF din > 0 AND acc.lots THEN
                PERFORM ledger_raise('RL003', format('a hold cannot credit %s, whose credits are lots', acc.path),
                                     jsonb_build_object('account', acc.path));
            END IF;
        ELSE
            dp := acc.u_post * sgn;
        END IF;
        IF acc.u_rel <> 0 THEN   -- releasing a hold's pending amounts
            IF acc.u_rel * sgn < 0 THEN dout := dout + acc.u_rel * sgn; ELSE din := din - acc.u_rel * sgn; END IF;
        END IF;
        IF p_mode = 'capture' AND acc.u_post * sgn < 0 AND (acc.u_rel * sgn >= 0 OR acc.u_post * sgn < acc.u_rel * sgn) THEN
            PERFORM ledger_raise('RL003',
                format('a capture may take from %s at most what the hold reserved there', acc.path),
                jsonb_build_object('account', acc.path, 'held', greatest(-acc.u_rel * sgn, 0),
                                   'requested', -acc.u_post * sgn));
        END IF;
        CONTINUE WHEN dp = 0 AND dout = 0 AND din = 0 AND acc.u_post = 0;

        IF acc.floor IS NOT NULL AND dp - dout < 0 THEN
            -- available decreases: check the floor in the same statement
            IF acc.shards = 1 THEN
                UPDATE ledger_balances b SET posted = b.posted + dp, pending_out = b.pending_out + dout,
                                             pending_in = b.pending_in + din
                WHERE b.account_id = acc.id AND b.shard = 0
                  AND b.posted + dp - (b.pending_out + dout) >= acc.floor;
                found_row := FOUND;
                IF NOT found_row THEN
                    SELECT b.posted - b.pending_out INTO avail FROM ledger_balances b WHERE b.account_id = acc.id;
                END IF;
            ELSE
                SELECT sum(x.posted - x.pending_out) INTO avail FROM (
                    SELECT b.posted, b.pending_out FROM ledger_balances b
                    WHERE b.account_id = acc.id ORDER BY b.shard FOR UPDATE) x;
                found_row := avail + dp - dout >= acc.floor;
                IF found_row THEN
                    UPDATE ledger_balances b SET posted = b.posted + dp, pending_out = b.pending_out + dout,
                                                 pending_in = b.pending_in + din
                    WHERE b.account_id = acc.id AND b.shard = 0;
                END IF;
            END IF;
            IF NOT found_row THEN
                PERFORM ledger_raise('RL001', format('insufficient funds on %s', acc.path),
                    jsonb_build_object('account', acc.path, 'available', avail - acc.floor,
                                       'required', dout - dp));
            END IF;
        ELSIF acc.shards = 1 OR dout <> 0 THEN
            UPDATE ledger_balances b SET posted = b.posted + dp, pending_out = b.pending_out + dout,
                                         pending_in = b.pending_in + din
            WHERE b.account_id = acc.id AND b.shard = 0;
        ELSE
            -- A hot account: this backend's own shard. Hot accounts are
            -- locked last, so a writer never holds a shard while it waits.
            UPDATE ledger_balances b SET posted = b.posted + dp, pending_in = b.pending_in + din
            WHERE b.account_id = acc.id AND b.shard = pg_backend_pid() % acc.shards;
        END IF;

        IF acc.u_post <> 0 THEN
            entry_ids := entry_ids || acc.id;
            entry_amts := entry_amts || acc.u_post;
        END IF;

        IF acc.lots THEN
            lot_paths := lot_paths || jsonb_build_object(acc.path, acc.id);
            IF p_mode IN ('capture', 'void') AND acc.u_rel * sgn < 0 THEN
                -- give back what the hold reserved and the capture does not take
                left_over := ledger_restore_lots(p_tx, acc.id, (acc.u_post - acc.u_rel) * sgn, p_origin);
                IF left_over <> 0 THEN
                    RAISE EXCEPTION 'ledger: hold % reserved lots on % that cannot be found', p_origin[1], acc.path;
                END IF;
            ELSIF p_mode IN ('post', 'hold', 'reverse') AND acc.u_post * sgn < 0 THEN
                only_ids := NULL;
                IF acc.only_lots IS NOT NULL THEN
                    only_ids := (SELECT array_agg(x::bigint) FROM jsonb_array_elements_text(acc.only_lots) x);
                END IF;
                -- a simple expression (no subquery in it): no executor start
                c := ledger_consume_lots(p_tx, acc.id, acc.path, -acc.u_post * sgn, acc.cat, only_ids,
                                         CASE WHEN p_mode = 'reverse' THEN p_origin END);
                IF acc.n_out = 1 THEN
                    consumed := consumed || jsonb_build_object(acc.id::text, jsonb_build_object('ids', c.ids, 'takes', c.takes));
                END IF;
            ELSIF acc.u_post * sgn > 0 THEN
                n_lot_credits := n_lot_credits + 1;
            END IF;
        END IF;
    END LOOP;

    IF cardinality(array_positions(assets, assets[1])) <> cardinality(assets) THEN
        PERFORM ledger_raise('RL003', 'a transaction moves one asset only', '{"field":"postings"}');
    END IF;
    IF cardinality(entry_ids) > 0 THEN
        INSERT INTO ledger_entries (tx_id, account_id, amount, effective_at)
        SELECT p_tx, x.a, x.u, p_eff FROM unnest(entry_ids, entry_amts) AS x(a, u);
    END IF;

    IF n_lot_credits = 0 THEN
        RETURN cardinality(entry_ids);
    END IF;
    -- Credits to lot-tracked accounts become lots: as the posting says
    -- (lot), moved along from the lots the source gave (mirror), given back
    -- to the lots the original consumed (reversal), or a plain lot.
    FOR i IN 0 .. coalesce(jsonb_array_length(p_postings), 0) - 1 LOOP
        pj := p_postings->i;
        IF lot_paths ? (pj->>'to') THEN
            cr_to := cr_to || (lot_paths->>(pj->>'to'))::bigint;
            cr_from := cr_from || (lot_paths->>(pj->>'from'))::bigint;
            cr_amt := cr_amt || (pj->>'amount')::bigint;
            cr_lot := cr_lot || (pj->'lot');
        END IF;
    END LOOP;
    IF p_sides IS NOT NULL THEN
        FOR r IN SELECT (s->>'id')::bigint AS to_id, (s->>'u')::bigint AS amount
                 FROM jsonb_array_elements(p_sides) s
                 WHERE NOT coalesce((s->>'rel')::boolean, false) AND (s->>'u')::bigint > 0
                   AND (SELECT a.lots FROM ledger_accounts a WHERE a.id = (s->>'id')::bigint)
        LOOP
            cr_to := cr_to || r.to_id; cr_from := cr_from || NULL::bigint;
            cr_amt := cr_amt || r.amount; cr_lot := cr_lot || NULL::jsonb;
        END LOOP;
    END IF;
    FOR i IN 1 .. cardinality(cr_to) LOOP
        cto := cr_to[i]; cfrom := cr_from[i]; camt := cr_amt[i]; clot := cr_lot[i];
        left_over := camt;
        IF p_mode = 'reverse' THEN
            left_over := ledger_restore_lots(p_tx, cto, camt, p_origin);
            CONTINUE WHEN left_over = 0;
        END IF;
        IF clot IS NULL AND cfrom IS NOT NULL AND consumed ? cfrom::text AND p_mode <> 'reverse' THEN
            INSERT INTO ledger_lots (account_id, tx_id, parent_id, expires_at, categories, attrs, amount, remaining)
            SELECT cto, p_tx, l.id, l.expires_at, l.categories, l.attrs, x.t, x.t
            FROM unnest((SELECT array_agg(v::bigint) FROM jsonb_array_elements_text(consumed->cfrom::text->'ids') v),
                        (SELECT array_agg(v::bigint) FROM jsonb_array_elements_text(consumed->cfrom::text->'takes') v))
                 AS x(id, t)
            JOIN ledger_lots l ON l.id = x.id;
        ELSE
            INSERT INTO ledger_lots (account_id, tx_id, expires_at, categories, attrs, amount, remaining)
            VALUES (cto, p_tx, (clot->>'expires_at')::timestamptz,
                    CASE WHEN clot->'categories' IS NULL THEN '{}'::text[]
                         ELSE coalesce((SELECT array_agg(v) FROM jsonb_array_elements_text(clot->'categories') v), '{}') END,
                    coalesce(clot->'attrs', '{}'), left_over, left_over);
        END IF;
    END LOOP;
    RETURN cardinality(entry_ids);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_split_postings turns a split request into its three postings
-- (zero parts left out) by the policy in force at p_at, and returns the
-- policy and the parts to record on the transaction. A gross amount out of
-- range, or no policy in force, raises (ledger_split_check). The fund's part becomes a contributor lot carrying fund_attrs and
-- the policy version. One query (the policy and its parts); the postings
-- are built with simple expressions, which costs a third of building them
-- in SQL (jsonb_agg over VALUES). Callers assign its result (a simple
-- expression, no executor start).
CREATE FUNCTION ledger_split_postings(s jsonb, p_at timestamptz,
                                      OUT postings jsonb, OUT policy_id bigint, OUT split jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pol record;
BEGIN
    IF jsonb_typeof(s->'gross') IS DISTINCT FROM 'number' THEN
        PERFORM ledger_split_check(s, NULL);
    END IF;
    SELECT sp.id, sp.name, sp.version, pr.provider, pr.fund, pr.fee INTO pol
    FROM (SELECT * FROM ledger_split_policies x WHERE x.name = s->>'policy' AND x.valid_from <= p_at
          ORDER BY x.valid_from DESC LIMIT 1) sp
    CROSS JOIN LATERAL ledger_split_parts((s->>'gross')::bigint, sp.fund_bps, sp.fee_bps, sp.remainder_to) pr;
    IF NOT FOUND OR (s->>'gross')::bigint <= 0 OR (s->>'gross')::bigint > 1000000000000 THEN
        PERFORM ledger_split_check(s, pol.id);
    END IF;
    postings := '[]';
    IF pol.provider > 0 THEN
        postings := postings || jsonb_build_array(jsonb_build_object('from', s->>'from', 'to', s->>'provider',
            'amount', pol.provider, 'category', s->>'category'));
    END IF;
    IF pol.fund > 0 THEN
        postings := postings || jsonb_build_array(jsonb_build_object('from', s->>'from', 'to', s->>'fund',
            'amount', pol.fund, 'category', s->>'category',
            'lot', jsonb_build_object('attrs', coalesce(s->'fund_attrs', '{}') ||
                   jsonb_build_object('policy', pol.name, 'policy_version', pol.version))));
    END IF;
    IF pol.fee > 0 THEN
        postings := postings || jsonb_build_array(jsonb_build_object('from', s->>'from', 'to', s->>'fees',
            'amount', pol.fee, 'category', s->>'category'));
    END IF;
    policy_id := pol.id;
    split := jsonb_build_object('gross', (s->>'gross')::bigint, 'provider', pol.provider, 'fund', pol.fund,
                                'fee', pol.fee, 'policy', pol.name, 'version', pol.version);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_split_check refuses a split request without a valid gross amount
-- or without a policy in force (pol_id NULL).
CREATE FUNCTION ledger_split_check(s jsonb, pol_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(s->'gross') IS DISTINCT FROM 'number' OR (s->>'gross')::numeric <= 0
       OR (s->>'gross')::numeric > 1000000000000 THEN
        PERFORM ledger_raise('RL003', 'the gross amount of a split must be between 1 cent and 10 billion euro',
                             '{"field":"split.gross"}');
    END IF;
    IF pol_id IS NULL THEN
        PERFORM ledger_raise('RL002', format('no split policy %s in force', s->>'policy'),
                             jsonb_build_object('policy', s->>'policy'));
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_post writes a posted transaction, or a hold when p has
-- "hold": true (then "expires_at" is required). With "split" it adds the
-- three-way split of a gross amount by the policy in force at the
-- effective time, recording the policy and the parts on the transaction.
CREATE FUNCTION ledger_post(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    sp record;
    n_entries int;
    beg record;
    hold boolean := coalesce((p->>'hold')::boolean, false);
    postings jsonb := coalesce(p->'postings', '[]');
    pol_id bigint;
    s jsonb := p->'split';
    split_rec jsonb;
BEGIN
    IF s IS NOT NULL THEN
        sp := ledger_split_postings(s, coalesce((p->>'effective_at')::timestamptz, now()));
        pol_id := sp.policy_id; split_rec := sp.split;
        postings := postings || sp.postings;
    END IF;
    IF hold AND (p->>'expires_at') IS NULL THEN
        PERFORM ledger_raise('RL003', 'a hold needs an expiry time', '{"field":"expires_at"}');
    END IF;
    IF jsonb_array_length(postings) = 0 THEN
        PERFORM ledger_raise('RL003', 'a transaction needs at least one posting', '{"field":"postings"}');
    END IF;
    beg := ledger_begin(CASE WHEN hold THEN 'hold' ELSE 'post' END, p, CASE WHEN hold THEN 'hold' ELSE 'transfer' END,
                      CASE WHEN hold THEN 'pending' ELSE 'posted' END, NULL, NULL, pol_id, split_rec);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    n_entries := ledger_apply(tx_id, coalesce((p->>'effective_at')::timestamptz, now()),
                         CASE WHEN hold THEN 'hold' ELSE 'post' END, postings, NULL, NULL);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_resolve moves a hold out of pending with one state-guarded update:
-- of any number of concurrent captures, voids and expiries exactly one
-- succeeds; the others get a conflict naming the hold's status.
CREATE FUNCTION ledger_resolve(p_hold bigint, p_status text, p_force boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    exp timestamptz;
    sides jsonb;
BEGIN
    UPDATE ledger_transactions t SET status = p_status, resolved_at = now()
    WHERE t.id = p_hold AND t.status = 'pending' AND (p_force OR t.expires_at > now());
    IF NOT FOUND THEN
        SELECT t.status, t.expires_at INTO st, exp FROM ledger_transactions t WHERE t.id = p_hold;
        IF NOT FOUND OR st NOT IN ('pending', 'captured', 'voided', 'expired') THEN
            PERFORM ledger_raise('RL002', format('hold %s not found', p_hold), jsonb_build_object('hold_id', p_hold));
        END IF;
        IF st = 'pending' THEN st := 'expired'; END IF;
        PERFORM ledger_raise('RL004', format('hold %s is already %s', p_hold, st),
                             jsonb_build_object('hold_id', p_hold, 'status', st));
    END IF;
    SELECT jsonb_agg(jsonb_build_object('id', e.account_id, 'u', e.amount, 'rel', true)) INTO sides
    FROM ledger_entries e WHERE e.tx_id = p_hold;
    RETURN sides;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_capture captures a hold, fully (no postings, no split: what was
-- held is posted) or partly (postings and/or split that take from the held
-- accounts at most what was held); the rest is released, lots included.
CREATE FUNCTION ledger_capture(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    sp record;
    n_entries int;
    beg record;
    v_hold bigint := (p->>'hold_id')::bigint;
    rel jsonb;
    post_sides jsonb;
    postings jsonb := coalesce(p->'postings', '[]');
    pol_id bigint;
    s jsonb := p->'split';
    split_rec jsonb;
BEGIN
    IF v_hold IS NULL THEN
        PERFORM ledger_raise('RL003', 'hold_id is required', '{"field":"hold_id"}');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = v_hold) THEN
        PERFORM ledger_raise('RL002', format('hold %s not found', v_hold), jsonb_build_object('hold_id', v_hold));
    END IF;
    IF s IS NOT NULL THEN
        sp := ledger_split_postings(s, coalesce((p->>'effective_at')::timestamptz, now()));
        pol_id := sp.policy_id; split_rec := sp.split;
        postings := postings || sp.postings;
    END IF;
    beg := ledger_begin('capture', p, 'capture', 'posted', v_hold, NULL, pol_id, split_rec);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    rel := ledger_resolve(v_hold, 'captured', false);
    IF jsonb_array_length(postings) = 0 THEN
        SELECT jsonb_agg(jsonb_set(x, '{rel}', 'false')) INTO post_sides FROM jsonb_array_elements(rel) x;
    END IF;
    n_entries := ledger_apply(tx_id, coalesce((p->>'effective_at')::timestamptz, now()), 'capture',
                         CASE WHEN jsonb_array_length(postings) > 0 THEN postings END,
                         rel || coalesce(post_sides, '[]'), ARRAY[v_hold]);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_void releases a hold (p_status voided, or expired for the sweeper).
CREATE FUNCTION ledger_void(p_hold bigint, p_status text) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    rel jsonb;
    n_entries int;
BEGIN
    rel := ledger_resolve(p_hold, p_status, true);
    n_entries := ledger_apply(p_hold, now(), 'void', NULL, rel, ARRAY[p_hold]);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_reverse writes a transaction that undoes a posted one: fully (no
-- postings) or partly (postings in the original direction, which it
-- inverts). Reversals of one transaction never add up to more than it moved
-- on any account. Credits give lots back to where the original took them.
CREATE FUNCTION ledger_reverse(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    n_entries int;
    beg record;
    orig bigint := (p->>'transaction_id')::bigint;
    o record;
    inv jsonb;
    sides jsonb;
    bad record;
BEGIN
    -- The row lock serialises reversals of one transaction, so two partial
    -- refunds cannot both pass the check below.
    SELECT t.id, t.status, t.hold_id INTO o FROM ledger_transactions t WHERE t.id = orig FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ledger_raise('RL002', format('transaction %s not found', orig), jsonb_build_object('transaction_id', orig));
    END IF;
    IF o.status <> 'posted' THEN
        PERFORM ledger_raise('RL004', format('transaction %s is a %s hold: void it instead', orig, o.status),
                             jsonb_build_object('transaction_id', orig, 'status', o.status));
    END IF;
    beg := ledger_begin('reverse', p, 'reversal', 'posted', NULL, orig, NULL, NULL);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    IF p->'postings' IS NULL OR jsonb_array_length(p->'postings') = 0 THEN
        SELECT jsonb_agg(jsonb_build_object('id', e.account_id, 'u', -e.amount)) INTO sides
        FROM ledger_entries e WHERE e.tx_id = orig;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('from', j->>'to', 'to', j->>'from', 'amount', j->'amount')) INTO inv
        FROM jsonb_array_elements(p->'postings') j;
    END IF;
    -- No account gets back more than the original moved on it, counting
    -- earlier reversals; checked before any money moves.
    SELECT x.* INTO bad FROM (
        SELECT m.account_id, coalesce(sum(m.amount) FILTER (WHERE m.tx_id = orig), 0) AS o_amt,
               coalesce(sum(m.amount) FILTER (WHERE m.tx_id IS DISTINCT FROM orig), 0) AS r_amt
        FROM (
            SELECT e.tx_id, e.account_id, e.amount FROM ledger_entries e
            WHERE e.tx_id = orig OR e.tx_id IN (SELECT t.id FROM ledger_transactions t WHERE t.reverses_id = orig)
            UNION ALL
            SELECT NULL, (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'from'), -(j->>'amount')::bigint
            FROM jsonb_array_elements(coalesce(inv, '[]')) j
            UNION ALL
            SELECT NULL, (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'to'), (j->>'amount')::bigint
            FROM jsonb_array_elements(coalesce(inv, '[]')) j
            UNION ALL
            SELECT NULL, (s->>'id')::bigint, (s->>'u')::bigint FROM jsonb_array_elements(coalesce(sides, '[]')) s
        ) m GROUP BY m.account_id) x
    WHERE x.r_amt <> 0 AND (sign(x.r_amt) = sign(x.o_amt) OR abs(x.r_amt) > abs(x.o_amt))
    LIMIT 1;
    IF FOUND THEN
        PERFORM ledger_raise('RL003',
            format('the reversals of transaction %s would move more than it moved on %s', orig,
                   coalesce((SELECT a.path FROM ledger_accounts a WHERE a.id = bad.account_id), 'an account it did not touch')),
            jsonb_build_object('transaction_id', orig, 'original', abs(bad.o_amt), 'reversed', abs(bad.r_amt)));
    END IF;
    n_entries := ledger_apply(tx_id, coalesce((p->>'effective_at')::timestamptz, now()), 'reverse', inv, sides,
                         ARRAY[orig] || CASE WHEN o.hold_id IS NOT NULL THEN ARRAY[o.hold_id] ELSE '{}'::bigint[] END);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_carry_over moves what is left of an expired lot into a new lot of
-- the same account with a later expiry (p: key, lot_id, expires_at). No
-- money moves, so the transaction has no entries; the lot moves record it.
CREATE FUNCTION ledger_carry_over(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    beg record;
    l ledger_lots;
    path text;
    c record;
BEGIN
    SELECT * INTO l FROM ledger_lots WHERE id = (p->>'lot_id')::bigint;
    IF NOT FOUND THEN
        PERFORM ledger_raise('RL002', 'lot not found', jsonb_build_object('lot_id', p->'lot_id'));
    END IF;
    IF (p->>'expires_at') IS NULL THEN
        PERFORM ledger_raise('RL003', 'a carried-over lot needs a new expiry', '{"field":"expires_at"}');
    END IF;
    beg := ledger_begin('carry_over', p, 'lot_expiry.carry_over', 'posted', NULL, NULL, NULL, NULL);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    -- the balance row lock serialises every lot change of the account
    SELECT a.path INTO path FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
    WHERE a.id = l.account_id AND b.shard = 0 FOR UPDATE OF b;
    SELECT * INTO c FROM ledger_consume_lots(tx_id, l.account_id, path, (p->>'amount')::bigint, NULL,
                                             ARRAY[l.id], NULL);
    INSERT INTO ledger_lots (account_id, tx_id, parent_id, expires_at, categories, attrs, amount, remaining)
    VALUES (l.account_id, tx_id, l.id, (p->>'expires_at')::timestamptz, l.categories, l.attrs,
            (p->>'amount')::bigint, (p->>'amount')::bigint);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_tx_digest is the canonical text of a transaction's immutable
-- content that the hash chain covers (status and resolved_at change for
-- holds and are not covered).
CREATE FUNCTION ledger_tx_digest(t ledger_transactions, entries text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', t.id, t.idempotency_key, encode(t.request_hash, 'hex'), t.kind, t.reference,
                     extract(epoch FROM t.effective_at)::numeric(20, 6), t.hold_id, t.reverses_id, t.policy_id,
                     t.split::text, t.metadata::text, entries)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_seal extends the hash chain by up to p_limit transactions, in
-- (writer xid, id) order, taking only transactions whose writer and every
-- earlier writer have finished, so no row can later appear behind the
-- chain. One sealer at a time (the head row lock); never on the write path.
CREATE FUNCTION ledger_seal(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
    h ledger_chain_head;
    r record;
    n int := 0;
BEGIN
    SELECT * INTO h FROM ledger_chain_head FOR UPDATE;
    FOR r IN SELECT t.id, t.writer_xid,
                    ledger_tx_digest(t, (SELECT string_agg(e.account_id || ':' || e.amount, ',' ORDER BY e.id)
                                         FROM ledger_entries e WHERE e.tx_id = t.id)) AS digest
             FROM ledger_transactions t
             WHERE (t.writer_xid, t.id) > (h.last_xid, h.last_tx) AND t.writer_xid < horizon
             ORDER BY t.writer_xid, t.id LIMIT p_limit
    LOOP
        h.seq := h.seq + 1;
        h.last_hash := sha256(h.last_hash || convert_to(r.digest, 'UTF8'));
        h.last_xid := r.writer_xid;
        h.last_tx := r.id;
        INSERT INTO ledger_chain (seq, tx_id, hash) VALUES (h.seq, r.id, h.last_hash);
        n := n + 1;
    END LOOP;
    IF n > 0 THEN
        UPDATE ledger_chain_head SET seq = h.seq, last_xid = h.last_xid, last_tx = h.last_tx, last_hash = h.last_hash;
    END IF;
    RETURN n;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ledger_chain_check recomputes the chain and returns the first sequence
-- number whose hash does not match (NULL when the chain is intact).
CREATE FUNCTION ledger_chain_check() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    prev bytea := '\x';
    expect bigint := 1;
BEGIN
    -- entries aggregated in one pass (a hash aggregate), not looked up per transaction
    FOR r IN SELECT c.seq, c.hash, t.id AS tid, ledger_tx_digest(t, e.list) AS digest
             FROM ledger_chain c
             LEFT JOIN ledger_transactions t ON t.id = c.tx_id
             LEFT JOIN (SELECT x.tx_id, string_agg(x.account_id || ':' || x.amount, ',' ORDER BY x.id) AS list
                        FROM ledger_entries x GROUP BY x.tx_id) e ON e.tx_id = c.tx_id
             ORDER BY c.seq
    LOOP
        IF r.seq <> expect OR r.tid IS NULL THEN
            RETURN expect;
        END IF;
        prev := sha256(prev || convert_to(r.digest, 'UTF8'));
        IF prev <> r.hash THEN
            RETURN r.seq;
        END IF;
        expect := expect + 1;
    END LOOP;
    IF (SELECT seq FROM ledger_chain_head) <> expect - 1 OR (SELECT last_hash FROM ledger_chain_head) <> prev THEN
        RETURN expect;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- The application's database role. Roles are cluster-wide, so it may exist
-- already (another database of the same cluster). It may read and append
-- to the ledger; it can change a hold's status and nothing else of a
-- transaction, and it can never update or delete entries.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reciproca_app') THEN
        CREATE ROLE reciproca_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created concurrently by another database's migration
END $$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA public TO reciproca_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reciproca_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO reciproca_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO reciproca_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO reciproca_app;
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_transactions, ledger_entries, ledger_lot_moves, ledger_chain FROM reciproca_app;
GRANT UPDATE (status, resolved_at) ON ledger_transactions TO reciproca_app;
REVOKE DELETE, TRUNCATE ON ledger_accounts, ledger_balances, ledger_lots, ledger_split_policies, ledger_chain_head FROM reciproca_app;

-- +goose Down
DROP TABLE ledger_chain_head, ledger_chain, ledger_lot_moves, ledger_lots, ledger_entries,
           ledger_transactions, ledger_split_policies, ledger_balances, ledger_accounts CASCADE;
DROP FUNCTION ledger_chain_check(), ledger_carry_over(jsonb), ledger_seal(int), ledger_reverse(jsonb), ledger_void(bigint, text),
              ledger_capture(jsonb), ledger_resolve(bigint, text, boolean), ledger_post(jsonb),
              ledger_apply(bigint, timestamptz, text, jsonb, jsonb, bigint[]),
              ledger_restore_lots(bigint, bigint, bigint, bigint[]),
              ledger_consume_lots(bigint, bigint, text, bigint, text, bigint[], bigint[]),
              ledger_begin(text, jsonb, text, text, bigint, bigint, bigint, jsonb),
              ledger_split_postings(jsonb, timestamptz), ledger_split_check(jsonb, bigint), ledger_split_parts(bigint, int, int, text), ledger_immutable(), ledger_raise(text, text, jsonb);
