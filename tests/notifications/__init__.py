"""Tests of the notifications service: its pipeline and its push providers."""
