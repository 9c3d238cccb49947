"""What the case list's tools and the case page's tags need, read by their own includes
(templates/cases/_bulk_bar.html, _saved_searches.html, _case_tags.html), so the pages'
views stay as they are."""

from django import template

from cases.casework import saved_searches, tags
from cases.casework.list_forms import BulkActionForm

register = template.Library()


@register.simple_tag
def saved_searches_for(user):
    """The user's saved searches and those shared with their teams."""
    return list(saved_searches.visible_saved_searches(user))


@register.simple_tag
def sharing_teams_for(user):
    return list(saved_searches.sharing_teams(user))


@register.simple_tag
def bulk_form_for(user, filter_query: str = ""):
    # Its own ids: the filter form beside it has fields of the same names.
    return BulkActionForm(initial={"filter_query": filter_query}, user=user, auto_id="bulk_%s")


@register.simple_tag
def tag_names_for(user):
    """The names of the user's teams' tags, offered as the tag box's suggestions."""
    return [name for _, name in tags.tag_choices(user)]


@register.simple_tag
def team_tag_names(case):
    """The case team's tags it does not carry yet, offered when tagging it."""
    carried = {tag.pk for tag in case.tags.all()}
    return [tag.name for tag in tags.team_tags(case.team_id) if tag.pk not in carried]
