"""The ways out of a mismatch (docs/reconciliation.md, "Resolving"), one screen: which status
each kind may move to from where, and which of them need a note."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from core.errors import PanelError
from reconciliation.models import Mismatch, MismatchKind, MismatchStatus

OPEN, CLAIMED = MismatchStatus.OPEN, MismatchStatus.CLAIMED
RECOVERED, WRITTEN_OFF = MismatchStatus.RECOVERED, MismatchStatus.WRITTEN_OFF
ACKNOWLEDGED = MismatchStatus.ACKNOWLEDGED

# Money the provider owes: claim it, then record it recovered or write it off; or explain it
# (a top-up, a price change agreed with the provider). A refund the provider gave that the
# customer did not get is the panel's to keep or pass on: explained either way.
_OWED: dict[str, tuple[MismatchStatus, ...]] = {
    OPEN: (CLAIMED, RECOVERED, WRITTEN_OFF, ACKNOWLEDGED),
    CLAIMED: (RECOVERED, WRITTEN_OFF),
}
MOVES: dict[str, dict[str, tuple[MismatchStatus, ...]]] = {
    MismatchKind.OVERCHARGED.value: _OWED,
    MismatchKind.REFUND_MISSING.value: _OWED,
    MismatchKind.BALANCE.value: _OWED,
    MismatchKind.REFUND_KEPT.value: {OPEN: (ACKNOWLEDGED,)},
}
# A loss or an explanation is on the record in the operator's words.
NEEDS_NOTE = frozenset({WRITTEN_OFF, ACKNOWLEDGED})


class ResolutionRefused(PanelError):
    """Messages are catalog ids: pages show them with core.errors.error_display."""

    default_message = gettext_noop("This resolution is not possible for this mismatch now.")
    NOTE_MISSING = gettext_noop("Say why in the note.")


def resolutions_for(mismatch: Mismatch) -> tuple[MismatchStatus, ...]:
    return MOVES[mismatch.kind].get(mismatch.status, ())


def history_step(*, status: str, by: User | None, note: str, is_automatic: bool = False) -> dict:
    return {
        "at": timezone.now().isoformat(),
        "by": by.get_username() if by is not None else "",
        "status": status,
        "note": note,
        "auto": is_automatic,
    }


def mismatch_resolve(*, mismatch_id: int, to_status: str, note: str, admin: User) -> Mismatch:
    """Move a mismatch on its way out. Raises ResolutionRefused when the move is not one its
    kind allows from where it stands, or a note is missing; changes nothing then."""
    note = note.strip()
    with transaction.atomic():
        mismatch = Mismatch.objects.select_for_update().get(pk=mismatch_id)
        if to_status not in resolutions_for(mismatch):
            raise ResolutionRefused
        if to_status in NEEDS_NOTE and not note:
            raise ResolutionRefused(ResolutionRefused.NOTE_MISSING)
        mismatch.status = to_status
        mismatch.history = [
            *mismatch.history,
            history_step(status=to_status, by=admin, note=note),
        ]
        fields = ["status", "history"]
        if mismatch.is_settled:
            mismatch.settled_at, mismatch.settled_by = timezone.now(), admin
            fields += ["settled_at", "settled_by"]
        mismatch.save(update_fields=fields)
    return mismatch
