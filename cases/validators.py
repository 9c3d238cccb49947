"""Field validators: thin wrappers that raise ValidationError with the messages of
cases.normalize, importable by path so migrations can refer to them."""

from django.core.exceptions import ValidationError

from cases import normalize


def _raise(message: str) -> None:
    if message:
        raise ValidationError(message)


def validate_country(value: str) -> None:
    if not normalize.is_country_code(value):
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


def country_code_clean(value: str) -> str:
    """Return the ISO code of a country typed as a code or an English name, for forms."""
    code = normalize.parse_country(value)
    if code is None:
        raise ValidationError("Not a country this tool knows; use the ISO code.")
    return code


def validate_currency(value: str) -> None:
    if not normalize.is_currency_code(value):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code.")


def validate_lei(value: str) -> None:
    _raise(normalize.lei_error(value))


def validate_cik(value: str) -> None:
    _raise(normalize.cik_error(value))


def validate_uk_company_number(value: str) -> None:
    _raise(normalize.uk_company_number_error(value))


def validate_ror(value: str) -> None:
    _raise(normalize.ror_error(value))


def validate_openalex(value: str) -> None:
    _raise(normalize.openalex_error(value))


def validate_wikidata(value: str) -> None:
    _raise(normalize.wikidata_error(value))
