// The game side's name for the whisper splitter, which the ticket domain owns (it queues whispers).
export { splitWhisper } from '../tickets/whispers.js';
