// Form errors of the account and admin pages in words the reader understands: their zod schemas use
// catalogue keys as messages, and these become Messages (with their params) that renderPage puts
// into the page's language.
import { isMessageKey, message, type Message, type MessageKey, type Params } from '../i18n/index.js';

export type KeyedErrors = Record<string, Message | string>;

/** Field errors whose texts are catalogue keys, as Messages; `params` fills a key's placeholders. */
export function keyedErrors(errors: Record<string, unknown>, params: Partial<Record<MessageKey, Params>> = {}): KeyedErrors {
  const keyed: KeyedErrors = {};
  for (const [field, value] of Object.entries(errors)) {
    if (typeof value === 'string') keyed[field] = isMessageKey(value) ? message(value, params[value]) : value;
    else if (value && typeof value === 'object' && 'key' in value) {
      const m = value as Message;
      keyed[field] = m.params === undefined && params[m.key] ? message(m.key, params[m.key]) : m;
    }
  }
  return keyed;
}
