-- The notifications service's own table: one row per (user, device, session), the notification that device
-- shows or is about to show for that session. A burst of messages updates the row instead of adding pushes
-- (collapse); the row's state survives a restart, so a push is neither lost nor sent twice (services/notifications/store.py).
CREATE TABLE push_notifications (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    device_id VARCHAR(255) NOT NULL,
    session_id VARCHAR(255) NOT NULL,
    message_id BIGINT NOT NULL,                 -- the latest message of the session for this device
    stored_at TIMESTAMP(3) NOT NULL,            -- when the oldest message not yet pushed was stored (latency)
    kind ENUM('alert', 'withdraw') NOT NULL DEFAULT 'alert',
    state ENUM('pending', 'sending', 'sent', 'failed', 'cancelled') NOT NULL DEFAULT 'pending',
    due_at TIMESTAMP(3) NOT NULL,               -- pending: when to send; sending: when the claim's lease ends
    attempts INT NOT NULL DEFAULT 0,
    shown BOOLEAN NOT NULL DEFAULT FALSE,       -- the device shows an alert of this session (withdraw candidates)
    pushed_message_id BIGINT NULL,              -- the message of the last alert a provider accepted
    last_sent_at TIMESTAMP(3) NULL,
    provider VARCHAR(16) NULL,
    detail VARCHAR(255) NULL,                   -- the last outcome's reason, for operators
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_push_notifications_slot (user_id, device_id, session_id),
    KEY idx_push_notifications_due (state, due_at),
    KEY idx_push_notifications_sent (state, last_sent_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
