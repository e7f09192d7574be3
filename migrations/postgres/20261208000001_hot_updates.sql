-- Room on every page for the new version of a row, so that an update which changes no indexed
-- column stays on its page (a HOT update: no new index entries). A session's state and a
-- job's note, attempts and lease are rewritten often; a running session's update never
-- changes an indexed column. Pages filled before this keep their old fill until rewritten.
ALTER TABLE sessions SET (fillfactor = 70);
ALTER TABLE jobs SET (fillfactor = 80);
