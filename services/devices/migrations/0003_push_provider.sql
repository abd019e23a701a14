-- Push registrations for the notifications service: a Web Push subscription (endpoint + keys, as JSON) does not
-- fit 255 characters, and a token means nothing without its provider (apns, fcm, webpush).
ALTER TABLE user_devices
    MODIFY push_token VARCHAR(4096) NULL,
    ADD COLUMN push_provider VARCHAR(16) NULL AFTER push_token;
