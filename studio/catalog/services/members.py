"""Workflows of a team's people: roles, removals, leaving, and invitations.

Only owners change roles, remove members and invite; anyone may leave. A team
never loses its last owner: every change that could takes the team's row lock
first (`select_for_update`), then counts the owners, so two owners demoting or
removing each other at the same moment cannot both pass.

An invitation is a single-use link: its token (`secrets.token_urlsafe`) is
shown once and mailed; only its SHA-256 is stored, with the token's first
characters as the lookup key. Accepting marks it used in the same transaction
that creates the membership, with a conditional update, so a token works once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.lib.queue import Publication
from studio.notifications.mail import absolute_url, mail_later
from studio.notifications.services import notify_invitation_accepted

from ..models import Invitation, Membership, Role, Team
from ..selectors.members import (
    KEY_LENGTH,
    invitation_by_token,
    invitation_hash,
    owner_count,
)


class MembersError(Exception):
    """A change to a team's people that cannot be made; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotOwner(MembersError):
    """Only an owner of the team may do this."""


class LastOwner(MembersError):
    """The change would leave the team without an owner."""


class MemberGone(MembersError):
    """The membership no longer exists (removed meanwhile)."""


class AlreadyMember(MembersError):
    """The person is already in the team."""


class InvitationRefused(MembersError):
    """An invitation cannot be made as asked (bad email or role)."""


class NotPending(MembersError):
    """The invitation was already accepted, revoked, or it expired."""


class InvitationUnusable(MembersError):
    """The link cannot be used: `state` is unknown, accepted, revoked or expired."""

    def __init__(self, state: str) -> None:
        super().__init__(UNUSABLE_MESSAGES[state])
        self.state = state


class WrongAccount(MembersError):
    """A logged-in user opened an invitation sent to another email address."""


class AccountExists(MembersError):
    """Signing up with an email or username that an account already has."""


UNUSABLE_MESSAGES = {
    "unknown": "This invitation link is not valid: check that it was copied whole.",
    Invitation.State.ACCEPTED: "This invitation link was already used.",
    Invitation.State.REVOKED: "This invitation was revoked by an owner of the team.",
    Invitation.State.EXPIRED: "This invitation link has expired.",
}


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its token, which is never shown again."""

    invitation: Invitation
    token: str
    # None when no mail was asked for; `.failed` once the commit could not
    # queue it (the link is still shown to whoever invited).
    mail: Publication | None

    @property
    def path(self) -> str:
        return invitation_path(self.token)

    @property
    def url(self) -> str:
        return invitation_url(self.token)


def invitation_path(token: str) -> str:
    return reverse("catalog:invitation", kwargs={"token": token})


def invitation_url(token: str) -> str:
    """The absolute link of an invitation, for mail and the command line."""
    return absolute_url(invitation_path(token))


# ------------------------------------------------------------------ members


def _lock_team(team: Team) -> Team:
    return Team.objects.select_for_update().get(pk=team.pk)


def _require_owner(team: Team, by: User | None, doing: str) -> None:
    """`by` None is the command line, run by the server's administrator."""
    if by is None:
        return
    if not Membership.objects.filter(team=team, user=by, role=Role.OWNER).exists():
        raise NotOwner(f"Only an owner of {team.name} can {doing}.")


def _locked_membership(membership: Membership) -> Membership:
    current = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "team")
        .filter(pk=membership.pk)
        .first()
    )
    if current is None:
        raise MemberGone("That person is no longer a member of the team.")
    return current


def _last_owner_check(current: Membership, doing: str) -> None:
    if current.role == Role.OWNER and owner_count(current.team) <= 1:
        raise LastOwner(
            f"{current.user.get_username()} is the last owner of "
            f"{current.team.name} and cannot {doing}: make someone else an "
            "owner first."
        )


def membership_add(*, team: Team, user: User, role: str, by: User | None) -> Membership:
    """Add an existing user to the team with `role` (owners; None: command line)."""
    if role not in Role.values:
        raise InvitationRefused(f"Unknown role {role!r}: one of {Role.values}.")
    with transaction.atomic():
        _lock_team(team)
        _require_owner(team, by, "add members")
        if Membership.objects.filter(team=team, user=user).exists():
            raise AlreadyMember(
                f"{user.get_username()} is already a member of {team.name}."
            )
        membership = Membership.objects.create(team=team, user=user, role=role)
        audit_record(
            action=AuditEvent.Action.MEMBER_ADD,
            actor=by,
            team=team,
            summary=f"{user.get_username()} as {role}"
            + ("" if by else " (command line)"),
        )
    return membership


def membership_change_role(
    *, membership: Membership, role: str, by: User
) -> Membership:
    """Give a member another role (owners only; never the last owner away)."""
    if role not in Role.values:
        raise InvitationRefused(f"Unknown role {role!r}: one of {Role.values}.")
    with transaction.atomic():
        _lock_team(membership.team)
        _require_owner(membership.team, by, "change roles")
        current = _locked_membership(membership)
        if current.role == role:
            return current
        if role != Role.OWNER:
            _last_owner_check(current, f"become {role}")
        old = current.role
        current.role = role
        current.save(update_fields=["role"])
        audit_record(
            action=AuditEvent.Action.ROLE_CHANGE,
            actor=by,
            team=current.team,
            summary=f"{current.user.get_username()}: {old} → {role}",
        )
    return current


def membership_remove(*, membership: Membership, by: User) -> None:
    """Remove a member (owners only; never the last owner). Their access, API
    tokens for the team included, ends with their next request."""
    with transaction.atomic():
        _lock_team(membership.team)
        _require_owner(membership.team, by, "remove members")
        current = _locked_membership(membership)
        _last_owner_check(current, "be removed")
        current.delete()
        audit_record(
            action=AuditEvent.Action.MEMBER_REMOVE,
            actor=by,
            team=current.team,
            summary=f"{current.user.get_username()} ({current.role})",
        )


def membership_leave(*, membership: Membership) -> None:
    """Leave a team (anyone but its last owner)."""
    with transaction.atomic():
        _lock_team(membership.team)
        current = _locked_membership(membership)
        _last_owner_check(current, "leave")
        current.delete()
        audit_record(
            action=AuditEvent.Action.MEMBER_LEAVE,
            actor=current.user,
            team=current.team,
            summary=f"{current.user.get_username()} ({current.role})",
        )


# ------------------------------------------------------------------ invitations


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except ValidationError:
        raise InvitationRefused(f"{email!r} is not an email address.") from None
    return email


def invitation_create(
    *, team: Team, email: str, role: str, by: User | None, mail: bool = True
) -> IssuedInvitation:
    """Invite `email` to the team with `role` (owners; None: command line).

    A pending invitation to the same address is revoked (its link stops
    working). The link is mailed after commit unless `mail` is False.
    """
    email = _clean_email(email)
    if role not in Role.values:
        raise InvitationRefused(f"Unknown role {role!r}: one of {Role.values}.")
    now = timezone.now()
    with transaction.atomic():
        _lock_team(team)
        _require_owner(team, by, "invite people")
        member = (
            Membership.objects.filter(team=team, user__email__iexact=email)
            .select_related("user")
            .first()
        )
        if member is not None:
            raise AlreadyMember(
                f"{email} is already a member of {team.name} "
                f"({member.user.get_username()}, {member.role})."
            )
        replaced = Invitation.objects.filter(
            team=team,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=now, revoked_by=by)
        token, invitation = _new_invitation(
            team=team, email=email, role=role, by=by, now=now
        )
        audit_record(
            action=AuditEvent.Action.INVITE,
            actor=by,
            team=team,
            summary=f"{email} as {role}"
            + (" (replaces the earlier invitation)" if replaced else "")
            + ("" if by else " (command line)"),
        )
        publication = None
        if mail:
            publication = mail_later(
                to=[email],
                template="invitation",
                context={
                    "team": team.name,
                    "role": role,
                    "inviter": (by.get_full_name() or by.get_username())
                    if by
                    else "An administrator",
                    "url": invitation_url(token),
                    "expires_at": invitation.expires_at,
                    "email": email,
                },
            )
    return IssuedInvitation(invitation=invitation, token=token, mail=publication)


def _new_invitation(
    *, team: Team, email: str, role: str, by: User | None, now: datetime
) -> tuple[str, Invitation]:
    expires_at = now + timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    for _ in range(5):
        token = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    team=team,
                    email=email,
                    role=role,
                    prefix=token[:KEY_LENGTH],
                    secret_hash=invitation_hash(token),
                    invited_by=by,
                    created_at=now,
                    expires_at=expires_at,
                )
        except IntegrityError:  # a prefix collision: draw again
            continue
        return token, invitation
    raise RuntimeError("could not draw a unique invitation key")


def invitation_revoke(*, invitation: Invitation, by: User | None) -> Invitation:
    """Revoke a pending invitation: its link stops working (owners only)."""
    with transaction.atomic():
        _lock_team(invitation.team)
        _require_owner(invitation.team, by, "revoke invitations")
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not current.is_pending:
            raise NotPending(
                f"The invitation to {current.email} is {current.state} already."
            )
        current.revoked_at = timezone.now()
        current.revoked_by = by
        current.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            action=AuditEvent.Action.INVITE_REVOKE,
            actor=by,
            team=invitation.team,
            summary=f"{current.email} ({current.role})",
        )
    return current


def _usable_invitation(token: str) -> Invitation:
    invitation = invitation_by_token(token, for_update=True)
    if invitation is None:
        raise InvitationUnusable("unknown")
    if not invitation.is_pending:
        raise InvitationUnusable(invitation.state)
    return invitation


def wrong_account_message(invitation: Invitation, user: User) -> str:
    """Why `user` cannot accept `invitation`, or "" when they can."""
    if user.email and user.email.casefold() == invitation.email.casefold():
        return ""
    has = f"whose email is {user.email}" if user.email else "who has no email address"
    return (
        f"This invitation was sent to {invitation.email}, and you are logged in "
        f"as {user.get_username()}, {has}. Log out and open the link again to "
        f"join as {invitation.email}."
    )


def invitation_accept(*, token: str, user: User) -> Invitation:
    """Join the invitation's team with its role as `user`, whose email must be
    the invited one; the link is used up."""
    with transaction.atomic():
        invitation = _usable_invitation(token)
        problem = wrong_account_message(invitation, user)
        if problem:
            raise WrongAccount(problem)
        member = Membership.objects.filter(team=invitation.team, user=user).first()
        if member is not None:
            raise AlreadyMember(
                f"You are already a member of {invitation.team.name} ({member.role})."
            )
        Membership.objects.create(team=invitation.team, user=user, role=invitation.role)
        now = timezone.now()
        used = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(accepted_at=now, accepted_by=user)
        if used != 1:  # taken meanwhile: the membership above is rolled back
            raise InvitationUnusable(Invitation.State.ACCEPTED)
        invitation.accepted_at, invitation.accepted_by = now, user
        audit_record(
            action=AuditEvent.Action.INVITE_ACCEPT,
            actor=user,
            team=invitation.team,
            summary=f"{user.get_username()} ({invitation.email}) joined as "
            f"{invitation.role}",
        )
        inviter = invitation.invited_by
        if inviter is not None and _is_member(invitation.team, inviter):
            notify_invitation_accepted(
                inviter=inviter,
                member=user,
                team=invitation.team,
                url=reverse("catalog:team-members", args=[invitation.team.slug]),
            )
    return invitation


def _is_member(team: Team, user: User) -> bool:
    return Membership.objects.filter(team=team, user=user).exists()


def invitation_sign_up(
    *, token: str, username: str, password: str
) -> tuple[User, Invitation]:
    """Create an account with the invited email and join the team with it.

    Raises ValidationError for a password Django's validators refuse.
    """
    with transaction.atomic():
        invitation = _usable_invitation(token)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise AccountExists(
                f"An account with the email {invitation.email} exists already: "
                "log in with it, then open the link again."
            )
        if User.objects.filter(username__iexact=username).exists():
            raise AccountExists(f"The username {username!r} is taken.")
        user = User(username=username, email=invitation.email)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        invitation = invitation_accept(token=token, user=user)
    return user, invitation


def account_sign_up(*, username: str, email: str, password: str) -> User:
    """Create an account without a team (open sign-up, when it is on).

    Raises ValidationError for a password Django's validators refuse.
    """
    email = _clean_email(email)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise AccountExists(
                f"An account with the email {email} exists already: log in instead."
            )
        if User.objects.filter(username__iexact=username).exists():
            raise AccountExists(f"The username {username!r} is taken.")
        user = User(username=username, email=email)
        validate_password(password, user)
        user.set_password(password)
        user.save()
    return user


def invitations_purge(*, now: datetime | None = None) -> int:
    """Delete invitations whose link stopped working (expired or revoked, never
    accepted) more than EXPIRED_KEEP_DAYS ago; returns how many.

    Until then the members page and the API list them as expired or revoked;
    accepted ones stay, and the audit log keeps every invitation's story. One
    DELETE statement: two runs at once delete each row once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EXPIRED_KEEP_DAYS)
    _, deleted = Invitation.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff),
        accepted_at__isnull=True,
    ).delete()
    return deleted.get(Invitation._meta.label, 0)
