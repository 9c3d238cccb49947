"""Forms of the case list's tools and the case page's tags: tagging, bulk actions and
saved searches. Names and queries are checked again by their services; these forms only
read what was sent."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import Jinja2

from cases import access
from cases.casework import bulk_actions
from cases.models import Case, Team

# One renderer for the forms that draw it, as its Jinja2 environment compiles the
# templates once.
FAST_RENDERER = Jinja2()


class JinjaWidgetsForm(forms.Form):
    """A form of the case list, its widgets drawn by Jinja2: the same HTML as Django's
    own widget templates (tests/casework/test_filters.py compares them) in a fraction of
    the time. The list's selects hold a few hundred options, and Django's template
    engine drew each as an included template: most of the page's time at 100,000 cases
    (bench/load_test.py). Not the default renderer: the admin's widgets have Django
    templates only."""

    default_renderer = FAST_RENDERER


class ListedChoices(ModelChoiceIterator):
    """A model choice field's options read in one plain query and once per form. Django
    reads them afresh each time the options are drawn or counted, through a server-side
    cursor on PostgreSQL (DECLARE ... WITH HOLD, FETCH, CLOSE: three round trips), and a
    case list page drew its model filters' options some forty times."""

    def __iter__(self):
        null_label = getattr(self.field, "null_label", None)  # django-filter's "nobody"
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if null_label is not None:
            yield (self.field.null_value, null_label)
        for obj in self.queryset:  # the field's queryset: its rows are kept on it
            yield self.choice(obj)

    def __len__(self):
        null_label = getattr(self.field, "null_label", None)
        return len(self.queryset) + (self.field.empty_label is not None) + (null_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.queryset)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices


# Long enough to say a 50-character name is too long instead of cutting it short.
_TAG_INPUT_LENGTH = 200


class TagForm(forms.Form):
    name = forms.CharField(
        label="Tag",
        max_length=_TAG_INPUT_LENGTH,
        strip=True,
        error_messages={"required": "Give the tag a name."},
    )


def assignable_users(user: AbstractBaseUser):
    """The analysts of the user's teams (of every team for an admin), for bulk assigning;
    each case still takes only a member of its own team."""
    users = get_user_model().objects.filter(is_active=True, groups__name=access.ANALYST)
    if not access.is_admin(user):
        users = users.filter(teams__in=access.visible_teams(user).values("id"))
    return users.distinct().order_by("username")


class BulkActionForm(JinjaWidgetsForm):
    """One action over the picked cases ("cases", their ids) or, with "all_matching",
    over every case the list's filter ("filter_query") matches."""

    cases = forms.Field(widget=forms.MultipleHiddenInput, required=False)
    all_matching = forms.BooleanField(required=False)
    filter_query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=(), error_messages={"required": "Choose an action."})
    assignee = ListedModelChoiceField(
        queryset=None, required=False, empty_label="nobody", label="user"
    )
    status = forms.ChoiceField(choices=[("", "—"), *Case.Status.choices], required=False)
    team = ListedModelChoiceField(queryset=Team.objects.order_by("name"), required=False)
    tag = forms.CharField(required=False, max_length=_TAG_INPUT_LENGTH, strip=True)

    def __init__(self, *args, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        actions = bulk_actions.allowed_actions(
            can_edit=access.can_edit(user),
            can_assign=access.can_assign(user),
            is_admin=access.is_admin(user),
        )
        self.fields["action"].choices = [("", "— choose —")] + [
            (action, bulk_actions.Action.LABELS[action]) for action in actions
        ]
        self.fields["assignee"].queryset = assignable_users(user)
        if bulk_actions.Action.TEAM not in actions:
            del self.fields["team"]
        if bulk_actions.Action.STATUS not in actions:
            del self.fields["status"], self.fields["tag"]

    def clean_cases(self) -> list[int]:
        picked = []
        for item in self.cleaned_data["cases"] or []:
            if not str(item).strip().isdigit():
                raise forms.ValidationError("The selection could not be read; reload the page.")
            picked.append(int(item))
        return sorted(set(picked))

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if not data.get("all_matching") and not data.get("cases") and "cases" not in self.errors:
            self.add_error("cases", "Pick at least one case, or every case of the filter.")
        needs = {
            bulk_actions.Action.STATUS: ("status", "Choose the status to set."),
            bulk_actions.Action.TEAM: ("team", "Choose the team to move the cases to."),
            bulk_actions.Action.TAG_ADD: ("tag", "Give the tag to add."),
            bulk_actions.Action.TAG_REMOVE: ("tag", "Give the tag to remove."),
        }
        if action in needs:
            name, message = needs[action]
            if not data.get(name):
                self.add_error(name if name in self.fields else None, message)
        return data


class SavedSearchForm(forms.Form):
    name = forms.CharField(max_length=200, error_messages={"required": "Give the search a name."})
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    # Any team is read, so a team the user is not on is refused in words by the service
    # rather than as an unknown choice.
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="only me", label="Share with"
    )


class SavedSearchUpdateForm(SavedSearchForm):
    query = None
