"""Signing in: throttling and lockout (axes), the second factor (django-otp) and the idle
session timeout. Views for the second factor; the password step is Django's LoginView."""
