-- Where a web session was begun (address and browser, as the sign-in
-- request gave them), so its user can tell its sessions apart on its
-- account page and end the ones it does not know.
ALTER TABLE sessions ADD COLUMN source_ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
