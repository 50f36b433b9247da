-- Spam flagging by bursts and short-call streaks is something an account turns on: a flagged call
-- leaves leads and reports, and a customer calling back again and again is not spam by default.
-- Accounts that saved a policy keep what they saved. Re-runnable.
ALTER TABLE spam_policies ALTER COLUMN burst_calls SET DEFAULT 0;
ALTER TABLE spam_policies ALTER COLUMN short_call_streak SET DEFAULT 0;
