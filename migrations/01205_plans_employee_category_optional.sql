-- +goose Up
-- An employee invited with HR data but no homogeneous category yet (an
-- invitation file with a matricola column and no categoria) keeps the
-- data; until HR sets a category the employee gets nothing from ordinary
-- plans (their amounts are per category).
ALTER TABLE employees ALTER COLUMN category_id DROP NOT NULL;

-- +goose Down
DELETE FROM employees WHERE category_id IS NULL;
ALTER TABLE employees ALTER COLUMN category_id SET NOT NULL;
