-- Devices and connections, owned by the devices service. Column names follow the product spec;
-- ids are BIGINT, node_id records which edge node holds a socket.
CREATE TABLE user_devices (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    device_id VARCHAR(255) NOT NULL,
    device_name VARCHAR(255),
    device_type ENUM('desktop', 'mobile', 'web', 'other') NOT NULL DEFAULT 'other',
    platform VARCHAR(100),
    browser VARCHAR(100),
    os_version VARCHAR(100),
    app_version VARCHAR(50),
    push_token VARCHAR(255),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    last_login TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_user_devices_user_device (user_id, device_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_connections (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    connection_id VARCHAR(255) NOT NULL,
    socket_id VARCHAR(255),
    device_id VARCHAR(255),
    node_id VARCHAR(255) NOT NULL,
    status ENUM('connected', 'disconnected') NOT NULL DEFAULT 'connected',
    last_heartbeat TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    connected_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    disconnected_at TIMESTAMP(3) NULL,
    ip_address VARCHAR(45),
    user_agent TEXT,
    UNIQUE KEY uq_user_connections_connection (connection_id),
    KEY idx_user_connections_user (user_id, status),
    KEY idx_user_connections_node (node_id, status),
    KEY idx_user_connections_stale (status, last_heartbeat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
