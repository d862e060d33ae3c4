"""The owner's logo: checked, stored and served on his panel's host only.

Only PNG and JPEG, read here without an image library: a PNG is walked chunk by chunk (each
CRC checked, IHDR first, IEND last), a JPEG's markers are walked to its frame header. What is
stored is what a browser draws as an image and nothing else (no SVG: it can carry script), and
it is served with its own type and `nosniff`, so no browser reads it as a page."""

import struct
import zlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import ChildPanel, ChildPanelLogo, ChildPanelState, User
from core.errors import InvalidRequest

MAX_BYTES = 200 * 1024
MAX_SIDE = 1024
MIN_SIDE = 16
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG frame headers (SOF0-SOF15) carry the size; C4, C8 and CC are other tables.
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True)
class Image:
    content_type: str
    width: int
    height: int


def _png(data: bytes) -> Image:
    pos, size, seen_end = len(PNG_SIGNATURE), None, False
    while pos < len(data):
        if pos + 12 > len(data):
            raise NotAnImage("truncated chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            raise NotAnImage("truncated chunk")
        (crc,) = struct.unpack(">I", data[body_end : body_end + 4])
        if zlib.crc32(data[pos + 4 : body_end]) != crc:
            raise NotAnImage("bad crc")
        if size is None:
            if kind != b"IHDR" or length != 13:
                raise NotAnImage("no header")
            size = struct.unpack(">II", data[pos + 8 : pos + 16])
        if kind == b"IEND":
            seen_end = body_end + 4 == len(data)
            break
        pos = body_end + 4
    if size is None or not seen_end:
        raise NotAnImage("no end")
    return Image("image/png", *size)


def _jpeg(data: bytes) -> Image:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise NotAnImage("bad marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            raise NotAnImage("bad segment")
        if marker in _JPEG_FRAMES:
            if pos + 9 > len(data):
                raise NotAnImage("truncated frame")
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise NotAnImage("no end")
            return Image("image/jpeg", width, height)
        pos += 2 + length
    raise NotAnImage("no frame")


def image_read(data: bytes) -> Image:
    """The image's type and size; raises NotAnImage for anything but a whole PNG or JPEG."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    raise NotAnImage("not png or jpeg")


def child_panel_logo_set(*, owner: User, child_panel_id: int, data: bytes) -> ChildPanelLogo:
    """Check and store the owner's logo for his panel. Raises InvalidRequest saying what is
    wrong: type (PNG or JPEG), size (MAX_BYTES) or dimensions (MIN_SIDE to MAX_SIDE)."""
    if len(data) > MAX_BYTES:
        raise InvalidRequest(gettext_noop("The logo must be at most 200 KB."))
    try:
        image = image_read(data)
    except NotAnImage as exc:
        raise InvalidRequest(gettext_noop("The logo must be a PNG or JPEG image.")) from exc
    if not (MIN_SIDE <= image.width <= MAX_SIDE and MIN_SIDE <= image.height <= MAX_SIDE):
        raise InvalidRequest(gettext_noop("The logo must be 16 to 1024 pixels wide and high."))
    with transaction.atomic():
        child = (
            ChildPanel.objects.select_for_update().filter(pk=child_panel_id, owner=owner).first()
        )
        if child is None or child.state == ChildPanelState.DELETED:
            raise InvalidRequest()
        logo, _created = ChildPanelLogo.objects.update_or_create(
            child_panel=child,
            defaults={
                "content_type": image.content_type,
                "image": data,
                "width": image.width,
                "height": image.height,
            },
        )
        child.logo_updated_at = timezone.now()
        child.save(update_fields=["logo_updated_at"])
    return logo


def child_panel_logo_remove(*, owner: User, child_panel_id: int) -> None:
    with transaction.atomic():
        child = (
            ChildPanel.objects.select_for_update().filter(pk=child_panel_id, owner=owner).first()
        )
        if child is None:
            raise InvalidRequest()
        ChildPanelLogo.objects.filter(child_panel=child).delete()
        child.logo_updated_at = None
        child.save(update_fields=["logo_updated_at"])
