-- An app session opened from a dashboard session (Open) ends with it:
-- signing out of the dashboard signs out of every app opened from it.
-- NULL: opened by an app-only share link (ended by revoking the link).
ALTER TABLE app_handoffs ADD COLUMN parent_session TEXT;
ALTER TABLE app_sessions ADD COLUMN parent_session TEXT;
