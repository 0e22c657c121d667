-- 008: languages (issue #16). An account may choose its language on view=settings (`locale`);
-- without a choice, the language its last page was shown in (`seen_locale`) is what its emails and
-- Telegram messages are written in. A game ticket remembers the language its game actions asked
-- for (`lang`), so later whispers on it are in that language too. NULL everywhere means "not
-- known": the admin's texts, else DEFAULT_LOCALE.
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN seen_locale TEXT;
ALTER TABLE tickets ADD COLUMN locale TEXT;
