"""Cohorts of cases: the dimensions that group cases into cohorts, where each is read from,
which cohorts a case's value puts it in and how a cohort is labelled; and the outcome
kinds a cohort is measured by.
"""

from django.db.models import F, Value
from django.db.models.functions import NullIf

from cases.models import AllianceBloc, CooperationMethod, Entity, Finding
from cases.normalize import country_name

# Cohort dimensions and where each lives. Referral-level dimensions come from the
# case's index referral: the referral that started its clock.
DIMENSIONS = {
    "year": "index_date__year",
    "host_country": "index_referral__host_country",
    "bloc": "index_referral__alliance_bloc",
    "post": "index_referral__post__name",
    "technology_field": "index_referral__technology_field",
    "entity_type": "entity__kind",
    "cooperation_method": None,  # several per referral: one column per method
    "team": "team__name",
    # By id, not name: names are unique per person only, so two people's "Sample" are two
    # cohorts (the selectors label them by name).
    "cohort": "cohorts__id",
}

# The methods of a case's index referral, one cohort each.
METHODS_FIELD = "index_referral__cooperation_methods"

OUTCOME_KINDS = ("any", *Finding.Kind.values)


def check_outcome(outcome: str) -> None:
    if outcome not in OUTCOME_KINDS:
        raise ValueError(f"Unknown outcome {outcome!r}; one of {', '.join(OUTCOME_KINDS)}")


def group_expression(by: str):
    """The dimension's column, with an empty text value read as no value, so a case
    without one is in a single "(none)" cohort whether the value is NULL or ""."""
    if by in ("year", "cohort"):  # numbers: no empty text to fold
        return F(DIMENSIONS[by])
    return NullIf(F(DIMENSIONS[by]), Value(""))


def group_annotation(by: str):
    """What to annotate a case with as its `group` for `by`: the column, or for
    cooperation methods the whole list (see cohort_keys)."""
    if by == "cooperation_method":
        return F(METHODS_FIELD)
    return group_expression(by)


def cohort_keys(by: str | None, value) -> list:
    """The cohorts of `by` that a case whose group is `value` belongs to: one per
    cooperation method it lists, else its value; "all" when there is no dimension."""
    if by is None:
        return ["all"]
    if by == "cooperation_method":
        return list(value or [])
    return [value]


def cohort_label(by: str | None, value) -> str:
    """The cohort's name as the tables show it: a choice's label, the value itself, or
    "(none)" ("(unknown)" for a bloc) when the case has no value."""
    if by is None:
        return "all"
    if value is None or value == "":
        return "(none)" if by != "bloc" else "(unknown)"
    if by == "bloc":
        return AllianceBloc(value).label
    if by == "entity_type":
        return Entity.Kind(value).label
    if by == "cooperation_method":
        return CooperationMethod(value).label
    return str(value)


def cohort_display(by: str | None, label: str) -> str:
    """A cohort's label as the page shows it: a host country's code with its name beside
    it ("DE Germany"); other labels as they are. The tables and files keep the code
    (scripts match on it)."""
    if by == "host_country" and len(label) == 2 and label.isalpha() and label.isupper():
        name = country_name(label)
        return label if name == label else f"{label} {name}"
    return label
