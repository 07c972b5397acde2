"""Behaviour shared by every service: settings, errors, auth, upstream clients, docs, health."""
