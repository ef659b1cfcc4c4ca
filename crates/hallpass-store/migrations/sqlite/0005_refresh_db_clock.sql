-- When the refresh family last rotated, by the database's clock (unix microseconds). Nodes'
-- clocks may disagree; the grace window must hold by the one clock they share, so a node whose
-- clock runs fast cannot stretch it (docs/operations.md, "Clocks").
ALTER TABLE sessions ADD COLUMN refresh_rotated_db_at BIGINT;
