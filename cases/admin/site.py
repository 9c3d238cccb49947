"""The admin site's titles."""

from django.contrib import admin

admin.site.site_header = "Wishlist administration"


admin.site.site_title = "Wishlist admin"


admin.site.index_title = "Case store"
