"""Loopback peers that speak the push services' real protocols (APNs, FCM HTTP v1, Web Push), for tests of the
providers and of the notifications service: the real services are not reachable from a test."""
