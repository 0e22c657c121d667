-- 002: full-text search over ticket subjects and message bodies (issue: players' ticket system).
-- External-content FTS5 tables read their text from tickets/messages and are kept in step by
-- triggers. The trigram tokenizer matches any substring of 3+ characters in any script,
-- case-insensitively; shorter search terms fall back to LIKE (src/tickets/search.ts).

CREATE VIRTUAL TABLE tickets_fts USING fts5 (subject, content = 'tickets', content_rowid = 'id', tokenize = 'trigram');
CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'id', tokenize = 'trigram');

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets
BEGIN
  INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets
BEGIN
  INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets
BEGIN
  INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
  INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
  INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

-- Index whatever already exists.
INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
