-- The keys a member's own files are encrypted to (age X25519 recipients,
-- age1…): a file meant for that member alone is delivered encrypted to
-- every one of them.
CREATE TABLE member_recipients (
    member_id   BIGINT NOT NULL REFERENCES members(id),
    recipient   TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (member_id, recipient)
);
