-- Sessions, messages, the offline index and the retry queue, owned by the messaging service.
CREATE TABLE chat_sessions (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    session_id VARCHAR(255) NOT NULL,
    user_id BIGINT NOT NULL,
    agent_id BIGINT NULL,
    status ENUM('open', 'closed') NOT NULL DEFAULT 'open',
    last_sequence BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_chat_sessions_session (session_id),
    KEY idx_chat_sessions_user (user_id, status),
    KEY idx_chat_sessions_agent (agent_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- from_user_id is 0 for system messages, so the idempotency key stays unique for them too.
CREATE TABLE chat_messages (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    session_id VARCHAR(255) NOT NULL,
    sender_role ENUM('user', 'agent', 'system') NOT NULL,
    from_user_id BIGINT NOT NULL,
    to_user_id BIGINT NULL,
    message TEXT NOT NULL,
    message_type VARCHAR(32) NOT NULL DEFAULT 'text',
    reply_to_message_id BIGINT NULL,
    client_msg_id VARCHAR(64) NULL,
    status ENUM('pending', 'sent', 'delivered', 'read', 'failed') NOT NULL DEFAULT 'sent',
    sent_at TIMESTAMP(3) NULL,
    delivered_at TIMESTAMP(3) NULL,
    read_at TIMESTAMP(3) NULL,
    sequence_number BIGINT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_chat_messages_session_sequence (session_id, sequence_number),
    UNIQUE KEY uq_chat_messages_sender_client_msg (from_user_id, client_msg_id),
    CONSTRAINT fk_chat_messages_session FOREIGN KEY (session_id) REFERENCES chat_sessions (session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per (recipient, message) until a device of the recipient acknowledges it: the index of what a
-- user has not received yet, whether it was offline or the live push was lost.
CREATE TABLE offline_messages (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    session_id VARCHAR(255) NOT NULL,
    sequence_number BIGINT NOT NULL,
    delivered BOOLEAN NOT NULL DEFAULT FALSE,
    delivered_at TIMESTAMP(3) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_offline_messages_user_message (user_id, message_id),
    KEY idx_offline_messages_pending (user_id, delivered, id),
    CONSTRAINT fk_offline_messages_message FOREIGN KEY (message_id) REFERENCES chat_messages (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE message_queue (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    message_id BIGINT NOT NULL,
    session_id VARCHAR(255) NOT NULL,
    from_user_id BIGINT NOT NULL,
    to_user_id BIGINT NULL,
    retry_count INT NOT NULL DEFAULT 0,
    max_retries INT NOT NULL DEFAULT 3,
    status ENUM('pending', 'processing', 'completed', 'failed') NOT NULL DEFAULT 'pending',
    error_message TEXT,
    next_retry_at TIMESTAMP(3) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    KEY idx_message_queue_due (status, next_retry_at),
    CONSTRAINT fk_message_queue_message FOREIGN KEY (message_id) REFERENCES chat_messages (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
