"""URL routes: sign-in, the research pages (cases.urls) and the Django admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from cases.accounts import views as accounts_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:my_work", permanent=False)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="cases/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/", accounts_views.otp_verify, name="otp_verify"),
    path("accounts/two-factor/", accounts_views.otp_setup, name="otp_setup"),
    path("admin/", admin.site.urls),
    path("", include("cases.urls")),
]
