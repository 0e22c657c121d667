import { prepared, type Db } from './index.js';

export interface GuildSettings {
  guildId: string;
  ticketCloseOnLogout: boolean;
  ticketCategoryId: string | null;
  logChannelId: string | null;
}

/**
 * The guild's row of discord_guild_channels (seed 002 § Database), created with the
 * channels.conf default the first time it is needed; after that the row wins.
 */
export function guildSettings(db: Db, guildId: string, closeOnLogoutDefault: boolean, now = Date.now()): GuildSettings {
  prepared(
    db,
    `INSERT INTO discord_guild_channels (guild_id, ticket_close_on_logout, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (guild_id) DO NOTHING`,
  ).run(guildId, closeOnLogoutDefault ? 1 : 0, now, now);
  const row = prepared(
    db,
    `SELECT guild_id AS guildId, ticket_close_on_logout AS close, ticket_category_id AS ticketCategoryId, log_channel_id AS logChannelId
     FROM discord_guild_channels WHERE guild_id = ?`,
  ).get(guildId) as { guildId: string; close: number; ticketCategoryId: string | null; logChannelId: string | null };
  return { guildId: row.guildId, ticketCloseOnLogout: row.close === 1, ticketCategoryId: row.ticketCategoryId, logChannelId: row.logChannelId };
}

export function setGuildCloseOnLogout(db: Db, guildId: string, value: boolean, closeOnLogoutDefault: boolean, now = Date.now()): void {
  guildSettings(db, guildId, closeOnLogoutDefault, now);
  prepared(db, 'UPDATE discord_guild_channels SET ticket_close_on_logout = ?, updated_at = ? WHERE guild_id = ?').run(value ? 1 : 0, now, guildId);
}
