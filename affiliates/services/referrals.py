"""Referral links, the referrer a sign-up records, an admin's change of it, and the
self-referral guard's flags and their review (docs/affiliates.md)."""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User
from affiliates.models import (
    Affiliate,
    Commission,
    Referral,
    ReferralChange,
    ReferralFlag,
    SignupTrace,
)
from core.errors import InvalidRequest, InvalidTransition

Review = Referral.Review
# Lower-case letters and digits without the look-alikes (0/o, 1/l/i): read aloud or retyped
# from a screenshot, a code still works. Ten of them: about 49 bits, not guessable.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def affiliate_ensure(*, user_id: int) -> Affiliate:
    """The user's affiliate row with its code, made the first time it is asked for."""
    found = Affiliate.objects.filter(user_id=user_id).first()
    while found is None:
        try:
            with transaction.atomic():
                found = Affiliate.objects.create(user_id=user_id, code=_new_code())
        except IntegrityError:
            # A concurrent first visit made it, or (astronomically rarely) the code was taken.
            found = Affiliate.objects.filter(user_id=user_id).first()
    return found


def affiliate_visit(*, code: str) -> Affiliate | None:
    """The affiliate a followed link names, its visit counted; None for an unknown code. The
    caller counts only a browser's first visit (the one that sets the cookie)."""
    affiliate = Affiliate.objects.filter(code=code.lower()).select_related("user").first()
    if affiliate is None or not affiliate.user.is_active:
        return None
    Affiliate.objects.filter(pk=affiliate.pk).update(visits=F("visits") + 1)
    return affiliate


def agent_digest(user_agent: str) -> str:
    """A keyed digest of the browser's User-Agent: compares two sign-ups without keeping the
    text (and without it being looked up in a table of known agents)."""
    if not user_agent:
        return ""
    return salted_hmac("affiliates.signup-agent", user_agent[:512], algorithm="sha256").hexdigest()


def referral_record_signup(
    *, user: User, code: str, address: str, user_agent: str
) -> Referral | None:
    """At sign-up: keep where it came from (SignupTrace) and, when it followed a referral link,
    record its referrer for good. Sign-ups that look like the referrer, or like the referrer's
    other recent sign-ups, are flagged with their evidence."""
    trace = SignupTrace.objects.create(
        user=user, address=address or None, agent_digest=agent_digest(user_agent)
    )
    affiliate = Affiliate.objects.filter(code=code.lower()).first() if code else None
    if affiliate is None or affiliate.user_id == user.pk:
        return None
    referral = Referral.objects.create(referred=user, referrer_id=affiliate.user_id)
    _flag_same_signup(referral, trace)
    return referral


def _flag_same_signup(referral: Referral, trace: SignupTrace) -> None:
    if trace.address is None or not trace.agent_digest:
        return
    since = trace.created_at - timedelta(hours=settings.PANEL_AFFILIATE_SIGNUP_WINDOW_HOURS)
    # The referrer themself, or another account the same referrer brought in: a farm.
    family = Referral.objects.filter(referrer_id=referral.referrer_id).values("referred_id")
    matches = (
        SignupTrace.objects.filter(
            address=trace.address, agent_digest=trace.agent_digest, created_at__gte=since
        )
        .exclude(user_id=trace.user_id)
        .filter(Q(user_id=referral.referrer_id) | Q(user_id__in=family))
    )
    same = sorted(matches.values_list("user_id", flat=True))
    if same:
        referral_flag(
            referral=referral,
            reason=ReferralFlag.Reason.SAME_SIGNUP,
            evidence={"address": trace.address, "users": same},
        )


def referral_flag(*, referral: Referral, reason: str, evidence: dict[str, Any]) -> bool:
    """Flag a referral with a piece of evidence (once per reason): its commissions not yet
    settled wait for an admin. A new kind of evidence flags a cleared referral again. Returns
    whether the evidence was new."""
    _flag, created = ReferralFlag.objects.get_or_create(
        referral=referral, reason=reason, defaults={"evidence": evidence}
    )
    if not created:
        return False
    flagged = Referral.objects.filter(
        pk=referral.pk, review__in=[Review.NONE, Review.CLEARED]
    ).update(review=Review.FLAGGED)
    if flagged:
        referral.review = Review.FLAGGED
        _commissions_of(referral).filter(status=Commission.Status.PENDING).update(
            status=Commission.Status.HELD
        )
    return True


def _commissions_of(referral: Referral) -> Any:
    return Commission.objects.filter(
        referred_id=referral.referred_id, affiliate_id=referral.referrer_id
    )


def referral_review(*, referral_id: int, refuse: bool, reason: str, admin: User) -> Referral:
    """An admin's decision on a flagged referral: cleared, its held commissions go back to
    waiting for their settle date; refused (the same person), they and any later ones are
    never paid. Raises InvalidTransition when it is not flagged any more."""
    if not reason.strip():
        raise InvalidRequest(_("A reason is required"))
    target = Review.REFUSED if refuse else Review.CLEARED
    with transaction.atomic():
        changed = Referral.objects.filter(pk=referral_id, review=Review.FLAGGED).update(
            review=target, review_reason=reason.strip()[:255], reviewed_by=admin
        )
        if changed != 1:
            raise InvalidTransition(_("This referral is not waiting for a review."))
        referral = Referral.objects.get(pk=referral_id)
        held = _commissions_of(referral).filter(status=Commission.Status.HELD)
        if refuse:
            held.update(status=Commission.Status.REFUSED)
        else:
            held.update(status=Commission.Status.PENDING)
    return referral


def referral_set_referrer(
    *, referred_id: int, referrer_id: int | None, reason: str, admin: User
) -> Referral | None:
    """An admin's change of who referred a customer (None: nobody), with a reason. Commissions
    already accrued stay with the affiliate who earned them; later deposits follow the new one.
    A customer can never do this themself."""
    if not reason.strip():
        raise InvalidRequest(_("A reason is required"))
    if referrer_id == referred_id:
        raise InvalidRequest(_("A customer cannot refer themself."))
    if referrer_id is not None and not User.objects.filter(pk=referrer_id).exists():
        raise InvalidRequest(_("No such user"))
    with transaction.atomic():
        current = Referral.objects.select_for_update().filter(referred_id=referred_id).first()
        old = current.referrer_id if current else None
        if current is not None and current.review == Referral.Review.FLAGGED and old != referrer_id:
            # Its held commissions wait for the flag's decision: decide it first.
            raise InvalidTransition(
                _("Clear or refuse the flagged referral before changing its referrer.")
            )
        if old == referrer_id:
            return current
        ReferralChange.objects.create(
            referred_id=referred_id,
            old_referrer_id=old,
            new_referrer_id=referrer_id,
            reason=reason.strip()[:255],
            changed_by=admin,
        )
        if current is not None:
            current.delete()
        if referrer_id is None:
            return None
        # A new referral: its review and flags start over, as does the date its deposits count from.
        return Referral.objects.create(referred_id=referred_id, referrer_id=referrer_id)


def signup_traces_purge(*, now: Any = None) -> int:
    """Forget sign-up addresses and browser digests older than PANEL_AFFILIATE_TRACE_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PANEL_AFFILIATE_TRACE_DAYS)
    deleted, _rows = SignupTrace.objects.filter(created_at__lt=cutoff).delete()
    return deleted
