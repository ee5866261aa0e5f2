-- Per-app Python acceleration (uv underneath venv/pip): NULL follows the
-- global setting (`python.acceleration` in settings), 0 off, 1 on.
ALTER TABLE apps ADD COLUMN python_acceleration INTEGER;
