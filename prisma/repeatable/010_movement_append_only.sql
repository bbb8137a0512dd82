-- Repeatable: applied after every `npm run db:migrate` (CREATE OR REPLACE, idempotent).
-- The movement ledger is append-only. Erasing a shop (shop/redact) is the one exception and must
-- say so in its transaction: SELECT set_config('stockguard.erasing', 'on', true).
CREATE OR REPLACE FUNCTION "movement_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('stockguard.erasing', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the movement ledger is append-only (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;

DROP TRIGGER IF EXISTS "movement_append_only" ON "movement";
CREATE TRIGGER "movement_append_only" BEFORE UPDATE OR DELETE ON "movement"
  FOR EACH ROW EXECUTE FUNCTION "movement_append_only"();
