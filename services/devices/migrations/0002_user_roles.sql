-- The role each user id registered with first (user, agent or admin). Customers and staff share one id space;
-- binding an id to one role is what keeps a customer token carrying an agent's id from acting as that agent.
CREATE TABLE user_roles (
    user_id BIGINT PRIMARY KEY,
    role ENUM('user', 'agent', 'admin') NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
