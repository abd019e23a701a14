-- Idempotency keys are compared byte for byte and scoped to (sender, session).
-- Under utf8mb4_unicode_ci `ABC`, `abc ` and `àbc` all equalled `abc`: a new message was acknowledged as a
-- duplicate and its text dropped. utf8mb4_bin still pads trailing spaces on MariaDB (PAD SPACE), so the key is
-- VARBINARY (256 bytes: 64 characters of up to 4 bytes). Keyed per sender only, `abc` in a second session
-- answered with the first session's message; the session is part of the key now, so a duplicate is always a
-- message of the session it was sent to.
ALTER TABLE chat_messages
    DROP INDEX uq_chat_messages_sender_client_msg,
    MODIFY client_msg_id VARBINARY(256) NULL,
    ADD UNIQUE KEY uq_chat_messages_sender_session_client_msg (from_user_id, session_id, client_msg_id);
