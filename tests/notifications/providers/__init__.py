"""The push providers against loopback peers that speak APNs, FCM HTTP v1 and Web Push."""
