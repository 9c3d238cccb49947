"""Outgoing webhooks: a team's own systems told of new leads and confirmed findings."""
