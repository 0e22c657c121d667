-- 003: who claimed a ticket from Discord (/ticket claim). Discord members are not dashboard users,
-- so they are recorded by name and id next to the dashboard assignee.
ALTER TABLE tickets ADD COLUMN discord_assignee_id TEXT;
ALTER TABLE tickets ADD COLUMN discord_assignee_name TEXT;
