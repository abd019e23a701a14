-- The delivery sweep looks for recent rows nobody acknowledged: an index range over the undelivered rows only.
ALTER TABLE offline_messages ADD KEY idx_offline_messages_undelivered (delivered, created_at);
