// The state of an optional integration (Discord, Telegram, email, the game API) as /healthz and the
// admin page show it. It lives below both ends: the Discord bridge reports it (src/discord/bridge.ts),
// the web app shows it (src/web/app.ts) and src/server.ts collects it, so src/discord never imports
// from src/web.

export interface IntegrationState {
  state: 'off' | 'starting' | 'ready' | 'down';
  detail?: string;
}
