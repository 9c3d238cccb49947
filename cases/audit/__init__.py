"""The audit log: who signed in (or failed to), exported, downloaded, imported or changed
something in the admin. Call cases.audit.services.audit_record; receivers.py records the
sign-in and admin events from Django's own signals."""
