-- Calls made by the PBX half: an extension dialling a colleague (internal) or an outside number
-- (outbound), and click-to-call callbacks (outbound). Inbound tracked calls stay the default;
-- reports, ROI and leads count inbound calls only. Re-runnable.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS direction text NOT NULL DEFAULT 'inbound';
DO $$ BEGIN
  ALTER TABLE calls ADD CONSTRAINT calls_direction_check CHECK (direction IN ('inbound', 'outbound', 'internal'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
-- Who was dialled (an extension number or +E164) and from which extension.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS callee text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS extension_id uuid REFERENCES extensions(id) ON DELETE SET NULL;
-- The missed call a callback returns.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS callback_of uuid REFERENCES calls(id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS calls_callback_of ON calls (callback_of) WHERE callback_of IS NOT NULL;

-- Toll-fraud limits per extension: domestic numbers only unless granted, and a calls-per-minute cap.
ALTER TABLE extensions ADD COLUMN IF NOT EXISTS international boolean NOT NULL DEFAULT false;
ALTER TABLE extensions ADD COLUMN IF NOT EXISTS outbound_per_minute integer NOT NULL DEFAULT 5;
DO $$ BEGIN
  ALTER TABLE extensions ADD CONSTRAINT extensions_outbound_per_minute_check CHECK (outbound_per_minute BETWEEN 0 AND 600);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
-- The number outside phones see when this extension calls them (else the trunk's fixed number).
ALTER TABLE extensions ADD COLUMN IF NOT EXISTS caller_id text;
