"""The subcommands of `python manage.py team` (parser in
`studio/core/management/commands/team.py`): each makes one catalog call and
prints what it did, as text or JSON, returning the exit status."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import IntegrityError

from studio.catalog import services
from studio.catalog.models import Invitation, Membership, Team
from studio.catalog.selectors.members import team_members
from studio.catalog.services import members

if TYPE_CHECKING:
    from studio.core.management.commands.team import Command

OK, FAILED = 0, 1


def _emit(
    cmd: Command, options: dict[str, Any], data: dict[str, Any], text: str
) -> int:
    if options["json"]:
        cmd.stdout.write(json.dumps({"ok": True, **data}, indent=2, default=str))
    else:
        cmd.stdout.write(text)
    return OK


def _fail(cmd: Command, options: dict[str, Any], message: str) -> int:
    if options["json"]:
        cmd.stdout.write(json.dumps({"ok": False, "error": message}, indent=2))
    else:
        cmd.stderr.write(f"team {options['subcommand']}: {message}")
    return FAILED


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _team(slug: str) -> Team | None:
    return Team.objects.filter(slug=slug).first()


def handle_create(cmd: Command, options: dict[str, Any]) -> int:
    owner = _user(options["owner"])
    if owner is None:
        return _fail(cmd, options, f"no user {options['owner']!r}")
    name = options["name"].strip()
    if not name or len(name) > 100:
        return _fail(cmd, options, "a team name has 1 to 100 characters")
    slug = options["slug"] or ""
    if slug and Team.objects.filter(slug=slug).exists():
        return _fail(cmd, options, f"a team with the slug {slug!r} exists already")
    try:
        team = services.team_create(name=name, owner=owner, slug=slug)
    except IntegrityError:
        return _fail(cmd, options, f"a team with the slug {slug!r} exists already")
    return _emit(
        cmd,
        options,
        {"team": {"slug": team.slug, "name": team.name}, "owner": owner.username},
        f"created team {team.name} (slug {team.slug}) owned by {owner.username}",
    )


def handle_add(cmd: Command, options: dict[str, Any]) -> int:
    user = _user(options["username"])
    if user is None:
        return _fail(cmd, options, f"no user {options['username']!r}")
    team = _team(options["team"])
    if team is None:
        return _fail(cmd, options, f"no team with the slug {options['team']!r}")
    try:
        membership = members.membership_add(
            team=team, user=user, role=options["role"], by=None
        )
    except members.MembersError as exc:
        return _fail(cmd, options, exc.message)
    return _emit(
        cmd,
        options,
        {"team": team.slug, "username": user.username, "role": membership.role},
        f"added {user.username} to {team.name} as {membership.role}",
    )


def handle_invite(cmd: Command, options: dict[str, Any]) -> int:
    team = _team(options["team"])
    if team is None:
        return _fail(cmd, options, f"no team with the slug {options['team']!r}")
    try:
        issued = members.invitation_create(
            team=team,
            email=options["email"],
            role=options["role"],
            by=None,
            mail=not options["no_mail"],
        )
    except members.MembersError as exc:
        return _fail(cmd, options, exc.message)
    invitation = issued.invitation
    mailed = issued.mail is not None and not issued.mail.failed
    return _emit(
        cmd,
        options,
        {
            "team": team.slug,
            "email": invitation.email,
            "role": invitation.role,
            "url": issued.url,
            "expires_at": invitation.expires_at.isoformat(),
            "mailed": mailed,
        },
        f"invited {invitation.email} to {team.name} as {invitation.role}; the link "
        f"(shown only now, works once until {invitation.expires_at:%Y-%m-%d %H:%M} "
        f"UTC):\n{issued.url}"
        + ("" if mailed else "\n(not mailed: send the link yourself)"),
    )


def handle_list(cmd: Command, options: dict[str, Any]) -> int:
    teams: list[dict[str, Any]] = []
    for team in Team.objects.order_by("slug"):
        people: list[Membership] = team_members(team)
        pending = Invitation.objects.filter(
            team=team, accepted_at__isnull=True, revoked_at__isnull=True
        )
        teams.append(
            {
                "slug": team.slug,
                "name": team.name,
                "created_at": team.created_at.isoformat(),
                "members": [
                    {
                        "username": m.user.username,
                        "email": m.user.email,
                        "role": m.role,
                        "joined_at": m.created_at.isoformat(),
                    }
                    for m in people
                ],
                "pending_invitations": sum(1 for i in pending if i.is_pending),
            }
        )
    lines = []
    for t in teams:
        lines.append(f"{t['slug']}  {t['name']}  ({len(t['members'])} members)")
        lines += [f"  {m['username']} ({m['role']})" for m in t["members"]]
        if t["pending_invitations"]:
            lines.append(f"  {t['pending_invitations']} pending invitations")
    return _emit(cmd, options, {"teams": teams}, "\n".join(lines) or "no team yet")
