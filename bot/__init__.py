"""Rollout Pulse: a weekly pulse on whether an AI rollout works for the people who use it."""
