-- 007: saved replies (issue #15 point 2). Admins keep them on view=snippets; staff use them from
-- the console's reply form and with /ticket reply. Names are unique whatever their case, so the
-- autocomplete of /ticket reply never offers two that look alike.
CREATE TABLE snippets (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  body        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
