-- Opt-in: re-evaluate recommendations daily and apply the changes (each one logged).
ALTER TABLE recommendation_setting ADD COLUMN keep_applied boolean NOT NULL DEFAULT false;
ALTER TABLE recommendation_setting ADD COLUMN kept_at timestamptz;
