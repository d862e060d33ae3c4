"""The owner's logo: only a whole PNG or JPEG, at most 200 KB and 16 to 1024 pixels a side, shown
in his pages' header and served on his panel's host only. And his fee notice on his pages,
which only he (the panel's staff) sees."""

import struct
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import ChildPanel, ChildPanelLogo, User
from panel.child_panels.logo import image_read
from tests.child_panels.conftest import CHILD_HOST, OTHER_HOST, child_customer

pytestmark = pytest.mark.django_db


def png(width: int, height: int, *, crc_ok: bool = True) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) ^ (0 if crc_ok or kind != b"IDAT" else 1)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x25\x63\xeb" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + frame + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\xff\xd9"


def _upload(client: Client, child: ChildPanel, data: bytes, name: str = "logo.png") -> None:
    client.post(
        f"/child-panels/{child.pk}/logo/", {"logo": SimpleUploadedFile(name, data, "image/png")}
    )


def test_images_are_read_without_trusting_their_name() -> None:
    assert image_read(png(120, 40)).content_type == "image/png"
    assert (image_read(jpeg(300, 100)).width, image_read(jpeg(300, 100)).height) == (300, 100)


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 40,
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        png(64, 64, crc_ok=False),
        png(64, 64)[:-12],  # cut before its end
        png(2000, 20),  # too wide
        png(8, 8),  # too small
        png(64, 64) + b"<html>",  # something after its end
        b"\x89PNG\r\n\x1a\n" + b"\x00" * (201 * 1024),  # too big
    ],
)
def test_anything_but_a_whole_png_or_jpeg_of_a_sane_size_is_refused(
    client: Client, child: ChildPanel, data: bytes
) -> None:
    client.force_login(child.owner)
    _upload(client, child, data)
    assert not ChildPanelLogo.objects.exists()
    child.refresh_from_db()
    assert child.logo_updated_at is None


def test_his_logo_is_in_his_header_and_served_on_his_host_only(
    client: Client, child: ChildPanel, other_child: ChildPanel
) -> None:
    client.force_login(child.owner)
    _upload(client, child, png(120, 40))
    child.refresh_from_db()
    assert child.logo_updated_at is not None
    url = f"/logo/{int(child.logo_updated_at.timestamp())}"

    served = client.get(url, HTTP_HOST=CHILD_HOST)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served) == png(120, 40)  # type: ignore[arg-type]
    assert client.get(url, HTTP_HOST=OTHER_HOST).status_code == 404
    assert client.get(url).status_code == 404  # the parent's host
    carol = child_customer(child, "carol")
    client.force_login(carol)
    header = client.get("/account/", HTTP_HOST=CHILD_HOST).content.decode()
    assert f'class="brand-logo" src="{url}"' in header
    assert "brand-logo" not in client.get("/login/", HTTP_HOST=OTHER_HOST).content.decode()

    # someone else cannot replace it; he can remove it
    intruder = child_customer(None, "intruder")
    client.force_login(intruder)
    _upload(client, child, jpeg(50, 50), "x.jpg")
    assert ChildPanelLogo.objects.get().content_type == "image/png"
    client.force_login(child.owner)
    client.post(f"/child-panels/{child.pk}/logo/", {"remove": "1"})
    assert not ChildPanelLogo.objects.exists()
    assert client.get(url, HTTP_HOST=CHILD_HOST).status_code == 404


def _staff_login(child: ChildPanel) -> User:
    login = child_customer(child, "boss")
    User.objects.filter(pk=login.pk).update(is_staff=True)
    login.refresh_from_db()
    return login


def test_his_fee_notice_shows_on_his_pages_to_him_only(client: Client, child: ChildPanel) -> None:
    now = timezone.now()
    ChildPanel.objects.filter(pk=child.pk).update(
        monthly_fee=Decimal(5), paid_until=now + timedelta(days=2, hours=1)
    )
    boss, carol = _staff_login(child), child_customer(child, "carol")

    client.force_login(boss)
    due = client.get("/account/", HTTP_HOST=CHILD_HOST).content.decode()
    assert "owner-notice" in due and "is due in 3 days" in due
    client.force_login(carol)
    assert "owner-notice" not in client.get("/account/", HTTP_HOST=CHILD_HOST).content.decode()

    # past its date: unpaid, and the days left before the suspension
    ChildPanel.objects.filter(pk=child.pk).update(paid_until=now - timedelta(days=1))
    client.force_login(boss)
    unpaid = client.get("/account/", HTTP_HOST=CHILD_HOST).content.decode()
    assert "is unpaid: it is suspended in 2 days" in unpaid
    # a month away: nothing to say
    ChildPanel.objects.filter(pk=child.pk).update(paid_until=now + timedelta(days=20))
    assert "owner-notice" not in client.get("/account/", HTTP_HOST=CHILD_HOST).content.decode()
