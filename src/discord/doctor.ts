// Discord for `npm run cli -- doctor`: logs in with DISCORD_TOKEN, runs the setup check the
// running bridge runs (src/discord/setup.ts), and logs out. A refused login (the token, the
// Message Content intent's 4014) is its one problem.
import { Events } from 'discord.js';
import type { Config } from '../config.js';
import { createRedactor, errorText } from '../redact.js';
import { createClient } from './client.js';
import { checkDiscordSetup, DISALLOWED_INTENTS_CLOSE, loginProblem, type DiscordSetupReport } from './setup.js';

export async function checkDiscordOnce(config: Config, timeoutMs = 20_000): Promise<DiscordSetupReport & { guildName?: string }> {
  const client = createClient(config);
  const redact = createRedactor(config);
  let closeCode: number | undefined;
  client.on(Events.ShardDisconnect, (event) => {
    closeCode = event.code;
  });
  // discord.js also emits these; without a listener an 'error' event would throw.
  client.on(Events.Error, () => undefined);
  try {
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no Ready from the gateway within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      await Promise.race([client.login(config.discord.token!).then(() => ready), timeout]);
    } catch (err) {
      return { problems: [loginProblem(closeCode === DISALLOWED_INTENTS_CLOSE ? '' : errorText(err, redact), closeCode)] };
    } finally {
      clearTimeout(timer);
    }
    const report = await checkDiscordSetup(client, config, { fetch: true });
    const guildName = client.guilds.cache.get(config.discord.guildId!)?.name;
    return { ...report, ...(guildName !== undefined ? { guildName } : {}) };
  } finally {
    await client.destroy();
  }
}
