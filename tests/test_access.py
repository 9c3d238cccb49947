"""Who may see and change what (cases/access.py): roles from groups, teams for cases."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.http import Http404

from cases import access
from cases.models import Case, Finding
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    FindingFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(team, other_team):
    """One case of each team and one of no team."""
    return {
        "team": CaseFactory(team=team),
        "other_team": CaseFactory(team=other_team),
        "no_team": CaseFactory(team=None),
    }


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# ------------------------------------------------------------------------------ roles


def test_it_reads_roles_from_the_role_groups_only(analyst):
    analyst.groups.add(Group.objects.create(name="Editors"))

    assert access.roles(analyst) == frozenset({access.ANALYST})


def test_it_gives_a_supervisor_who_is_also_an_analyst_both_roles(supervisor):
    supervisor.groups.add(Group.objects.get(name=access.ANALYST))

    assert access.roles(supervisor) == frozenset({access.ANALYST, access.SUPERVISOR})


def test_it_gives_anonymous_and_inactive_users_no_roles(analyst):
    analyst.is_active = False

    assert access.roles(AnonymousUser()) == frozenset()
    assert access.roles(analyst) == frozenset()


def test_it_reads_the_roles_and_permissions_once_per_user_object(
    analyst, django_assert_num_queries
):
    access.roles(analyst)
    access.is_admin(analyst)

    with django_assert_num_queries(0):
        assert access.is_analyst(analyst)
        assert access.can_edit(analyst)
        assert not access.is_supervisor(analyst)


def test_it_reads_the_roles_afresh_for_a_new_user_object(analyst):
    access.roles(analyst)
    analyst.groups.clear()

    assert access.roles(type(analyst).objects.get(pk=analyst.pk)) == frozenset()


# ------------------------------------------------------------------------------ abilities


def test_an_analyst_edits_and_assigns_but_sees_no_analytics(analyst):
    assert access.is_analyst(analyst)
    assert access.can_edit(analyst)
    assert access.can_assign(analyst)
    assert not access.is_supervisor(analyst)
    assert not access.can_see_analytics(analyst)
    assert not access.is_admin(analyst)


def test_a_supervisor_cannot_edit_but_assigns_and_sees_analytics(supervisor):
    assert not access.is_analyst(supervisor)
    assert not access.can_edit(supervisor)
    assert access.can_assign(supervisor)
    assert access.is_supervisor(supervisor)
    assert access.can_see_analytics(supervisor)


def test_an_admin_has_every_ability_without_a_role(staff):
    assert access.roles(staff) == frozenset()
    assert access.is_admin(staff)
    assert access.can_edit(staff)
    assert access.can_assign(staff)
    assert access.can_see_analytics(staff)


def test_an_inactive_admin_is_no_admin(staff):
    staff.is_active = False

    assert not access.is_admin(staff)
    assert not access.can_edit(staff)
    assert not access.can_see_analytics(staff)


@pytest.mark.parametrize(
    "ability",
    [access.is_admin, access.can_edit, access.can_assign, access.can_see_analytics],
    ids=lambda f: f.__name__,
)
def test_a_user_without_a_role_and_anonymous_can_do_nothing(no_role, ability):
    assert not ability(no_role)
    assert not ability(AnonymousUser())


@pytest.mark.parametrize(
    "ability",
    [access.is_admin, access.can_edit, access.can_assign, access.can_see_analytics],
    ids=lambda f: f.__name__,
)
def test_the_staff_flag_alone_grants_no_ability(bare_staff, ability):
    """Staff opens the Django admin, where model permissions decide; it is no research
    role and no key to every team."""
    assert not ability(bare_staff)


def test_the_staff_flag_alone_shows_no_team_case_or_finding(bare_staff, cases):
    for case in cases.values():
        FindingFactory(case=case)

    assert list(access.visible_teams(bare_staff)) == []
    assert ids(access.visible_cases(bare_staff)) == set()
    assert ids(access.visible_findings(bare_staff)) == set()
    with pytest.raises(Http404):
        access.case_or_404(bare_staff, cases["no_team"].pk)


def test_a_superuser_is_an_admin_without_being_granted_the_permission(superuser, cases):
    assert access.is_admin(superuser)
    assert access.can_edit(superuser)
    assert access.can_see_analytics(superuser)
    assert ids(access.visible_cases(superuser)) == {case.pk for case in cases.values()}


def test_the_permission_given_through_a_group_makes_an_admin(cases):
    """Granted to a group in the admin, without the staff flag: every team's cases."""
    group = Group.objects.create(name="Case admins")
    group.permissions.add(Permission.objects.get(codename="view_all_teams"))
    user = UserFactory(username="gail")
    user.groups.add(group)

    assert access.is_admin(user)
    assert ids(access.visible_cases(user)) == {case.pk for case in cases.values()}


def test_an_inactive_superuser_is_no_admin(superuser):
    superuser.is_active = False

    assert not access.is_admin(superuser)


# ------------------------------------------------------------------------------ teams


def test_a_user_sees_only_their_teams(analyst, team, other_team):
    third = TeamFactory(name="Team C")

    assert set(access.visible_teams(analyst)) == {team}
    assert other_team not in access.visible_teams(analyst)
    assert third not in access.visible_teams(analyst)


def test_an_admin_sees_every_team(staff, team, other_team):
    assert set(access.visible_teams(staff)) == {team, other_team}


def test_a_member_without_a_role_sees_no_team(no_role, team):
    assert list(access.visible_teams(no_role)) == []


# ------------------------------------------------------------------------------ cases


def test_an_analyst_sees_the_cases_of_their_team_only(analyst, cases):
    assert ids(access.visible_cases(analyst)) == {cases["team"].pk}


def test_a_supervisor_sees_the_cases_of_their_team_only(supervisor, cases):
    assert ids(access.visible_cases(supervisor)) == {cases["team"].pk}


def test_a_member_of_two_teams_sees_both_teams_cases_once(team, other_team, cases):
    both = AnalystFactory(username="tess", teams=[team, other_team])

    visible = access.visible_cases(both)

    assert ids(visible) == {cases["team"].pk, cases["other_team"].pk}
    assert visible.count() == 2


def test_an_admin_sees_every_case_even_without_a_team(staff, cases):
    assert ids(access.visible_cases(staff)) == {case.pk for case in cases.values()}


def test_a_case_without_a_team_is_seen_by_admins_only(analyst, supervisor, cases):
    assert cases["no_team"].pk not in ids(access.visible_cases(analyst))
    assert cases["no_team"].pk not in ids(access.visible_cases(supervisor))


def test_a_member_without_a_role_sees_no_case(no_role, cases):
    assert ids(access.visible_cases(no_role)) == set()


def test_anonymous_and_inactive_users_see_no_case(analyst, cases):
    analyst.is_active = False

    assert ids(access.visible_cases(AnonymousUser())) == set()
    assert ids(access.visible_cases(analyst)) == set()


def test_a_role_on_no_team_sees_no_case(cases):
    loner = SupervisorFactory(username="lone")

    assert ids(access.visible_cases(loner)) == set()


def test_an_analyst_sees_the_findings_of_their_teams_cases_only(analyst, cases):
    mine = FindingFactory(case=cases["team"])
    FindingFactory(case=cases["other_team"])
    FindingFactory(case=cases["no_team"])

    assert ids(access.visible_findings(analyst)) == {mine.pk}


def test_an_admin_sees_every_finding(staff, cases):
    for case in cases.values():
        FindingFactory(case=case)

    assert ids(access.visible_findings(staff)) == set(Finding.objects.values_list("pk", flat=True))


# ------------------------------------------------------------------------------ lookups


def test_it_loads_a_visible_case_with_what_its_page_reads(
    analyst, cases, django_assert_num_queries
):
    Case.objects.filter(pk=cases["team"].pk).update(assignee=analyst)

    found = access.case_or_404(analyst, cases["team"].pk)

    with django_assert_num_queries(0):
        assert (found.entity.pk, found.team.name, found.assignee.username) == (
            cases["team"].entity_id,
            "Team A",
            "alice",
        )


@pytest.mark.parametrize("which", ["other_team", "no_team"])
def test_a_case_of_another_team_does_not_exist_for_an_analyst(analyst, cases, which):
    with pytest.raises(Http404):
        access.case_or_404(analyst, cases[which].pk)


def test_a_case_that_does_not_exist_is_not_found_for_an_admin(staff, cases):
    with pytest.raises(Http404):
        access.case_or_404(staff, max(case.pk for case in cases.values()) + 1)


def test_a_finding_of_another_team_does_not_exist_for_an_analyst(analyst, cases):
    mine = FindingFactory(case=cases["team"])
    theirs = FindingFactory(case=cases["other_team"])

    assert access.finding_or_404(analyst, mine.pk).case == cases["team"]
    with pytest.raises(Http404):
        access.finding_or_404(analyst, theirs.pk)
