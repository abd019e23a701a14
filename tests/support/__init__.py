"""Test harness: the real system (MySQL, NATS, the three services as processes) and real socket.io users."""
