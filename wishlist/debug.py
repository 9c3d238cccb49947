"""Error reports (the DEBUG error page, mails to ADMINS) with every credential masked.

Django's own filter masks settings whose names look secret (KEY, PASS, TOKEN...), but
not the URLs that carry a password: DATABASE_URL, REDIS_URL and CELERY_BROKER_URL were
shown whole, in the settings and again in request.META (runserver copies the process
environment into every request), and so was any local variable holding a connection
string. This filter also masks settings and variables named for a credential, the
user:password part and password-like query parameters of any URL, wherever it appears.
"""

import re

from django.views.debug import SafeExceptionReporterFilter

# Settings (and META keys, which include the environment under runserver) masked whole:
# Django's names, plus the URLs and headers of this project that carry credentials or an
# address (SEC EDGAR's User-Agent names a person's e-mail).
HIDDEN_SETTINGS = re.compile(
    "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|DSN"
    "|DATABASE_URL|REDIS_URL|BROKER|RESULT_BACKEND|SEC_USER_AGENT",
    flags=re.IGNORECASE,
)
# Local variables of the traceback masked whole: narrower than the settings' pattern, so
# the report keeps ordinary variables such as a loop's `key`.
HIDDEN_VARIABLES = re.compile(
    "pass|secret|token|api_?key|credential|cookie|signature|dsn|conninfo|authorization",
    flags=re.IGNORECASE,
)
# scheme://user:password@host: everything between :// and @ (a Redis URL may carry only
# the password, redis://:password@host).
URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)[^/@\s]+@", re.IGNORECASE)
# ...?password=x&token=y: the values of query parameters named for a credential.
URL_SECRET_PARAMETER = re.compile(
    r"(?P<name>[?&;][^=&#\s]*(?:pass|secret|token|key|auth)[^=&#\s]*=)[^&#\s]*",
    re.IGNORECASE,
)


class CredentialMaskingFilter(SafeExceptionReporterFilter):
    hidden_settings = HIDDEN_SETTINGS

    def cleanse_text(self, text: str) -> str:
        """Mask the credentials of every URL in `text`."""
        # str(): a lazy string (axes' username in the request) passes isinstance(str).
        text = URL_USERINFO.sub(rf"\g<scheme>{self.cleansed_substitute}@", str(text))
        return URL_SECRET_PARAMETER.sub(rf"\g<name>{self.cleansed_substitute}", text)

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return self.cleanse_text(cleansed)
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self._cleanse_variable(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _cleanse_variable(self, name, value):
        if isinstance(name, str) and HIDDEN_VARIABLES.search(name):
            return self.cleansed_substitute
        if isinstance(value, str | dict | list | tuple):
            return self.cleanse_setting("", value)
        return value
