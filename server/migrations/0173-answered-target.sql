-- Which dialplan target answered (extension:101, a group member, a SIP URI), as the plan named it:
-- answered_by keeps the phone's own address. The route step's sticky agent rings it again.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS answered_target text;
