-- Postgres only: it leaves room on its pages for updated rows (fillfactor). SQLite rewrites a
-- row in place, so there is nothing to do here; this file keeps the two histories in step.
SELECT 1;
