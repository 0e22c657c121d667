// The state of an optional integration (Discord, email, Telegram, the game API), as /healthz and
// the admin page show it. Below the web and the bridges, so both can speak of it.
export interface IntegrationState {
  state: 'off' | 'starting' | 'ready' | 'down';
  detail?: string;
}
