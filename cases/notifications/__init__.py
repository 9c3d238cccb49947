"""In-app notifications: who is told what about a case (new leads, assignments, mentions,
refused edits, comments on a watched case), the unread count and the list."""
