// Who counts as Support in Discord. Ticket channels are private to the staff roles
// (src/discord/channels.ts privateOverwrites), but an admin can loosen a channel by hand: the bridge
// does not trust the channel's permissions and checks the member itself before relaying a message
// as a staff answer or running a /ticket command.
import { PermissionFlagsBits, type GuildMember } from 'discord.js';

/**
 * A member holding one of DISCORD_STAFF_ROLE_IDS, or the Administrator permission (the guild
 * owner has it too). Both are read from the guild's role cache (GUILD_CREATE sends every role,
 * GUILD_ROLE_* keep it current), which is what GuildMember.permissions computes from. No member
 * (it left the guild, or Discord sent none) is no staff.
 */
export function isStaffMember(member: GuildMember | null | undefined, staffRoleIds: readonly string[]): member is GuildMember {
  if (!member) return false;
  if (member.permissions.has(PermissionFlagsBits.Administrator)) return true;
  return staffRoleIds.some((id) => member.roles.cache.has(id));
}
