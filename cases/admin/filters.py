"""List filters shared by the admin's lists: countries, years, waiting leads, post kinds."""

from django.contrib import admin

from cases import normalize, rules
from cases.models import Post


class CountryListFilter(admin.SimpleListFilter):
    """Offer only the countries present, with their names: codes alone are hard to scan."""

    title = "country"
    parameter_name = field_name = "country"

    def lookups(self, request, model_admin):
        codes = (
            model_admin.model._default_manager.exclude(**{self.field_name: ""})
            .order_by(self.field_name)
            .values_list(self.field_name, flat=True)
            .distinct()
        )
        return [(code, f"{code} – {normalize.country_name(code)}") for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_name: self.value()})
        return queryset


class HostCountryFilter(CountryListFilter):
    title = "host country"
    parameter_name = field_name = "host_country"


class EntityCountryFilter(CountryListFilter):
    parameter_name = field_name = "entity__country"


class CounterpartyCountryFilter(CountryListFilter):
    title = "counterparty country"
    parameter_name = field_name = "counterparty_country"


class YearListFilter(admin.SimpleListFilter):
    """Offer the years that occur in a date field, newest first."""

    title = "year"
    parameter_name = field_name = "date"

    def lookups(self, request, model_admin):
        dates = model_admin.model._default_manager.dates(self.field_name, "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in dates]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.field_name}__year": int(value)})
        return queryset


class ReferralYearFilter(YearListFilter):
    parameter_name = "year"
    field_name = "date"


class IndexYearFilter(YearListFilter):
    title = "index date year"
    parameter_name = "index_year"
    field_name = "index_date"


class HasLeadsFilter(admin.SimpleListFilter):
    title = "leads to review"
    parameter_name = "has_leads"

    def lookups(self, request, model_admin):
        return [("yes", "has leads to review"), ("no", "no leads to review")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(rules.has_waiting_leads())
        if self.value() == "no":
            return queryset.filter(~rules.has_waiting_leads())
        return queryset


class PostKindFilter(admin.SimpleListFilter):
    title = "post kind"
    parameter_name = "post_kind"

    def lookups(self, request, model_admin):
        return Post.Kind.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(post__kind=self.value())
        return queryset
