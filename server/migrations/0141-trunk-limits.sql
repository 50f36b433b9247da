-- Per-trunk call limits: a carrier (or a compromised one) cannot flood the B2BUA or run up
-- rtpengine ports beyond what its contract allows. NULL = no limit. Re-runnable.
ALTER TABLE trunks ADD COLUMN IF NOT EXISTS max_calls_per_second integer CHECK (max_calls_per_second > 0);
ALTER TABLE trunks ADD COLUMN IF NOT EXISTS max_concurrent_calls integer CHECK (max_concurrent_calls > 0);
