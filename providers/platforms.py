"""The platform a category sells for (Facebook, TikTok …): Vietnamese buyers look for the
platform first, then the kind of service. Detected from the category's name at each sync;
an operator's choice (`Category.platform_override`) wins and is never touched by a sync."""

import re

from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    """In the order pages show them: the platforms Vietnamese panels sell most come first."""

    FACEBOOK = "facebook", "Facebook"
    TIKTOK = "tiktok", "TikTok"
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"
    SHOPEE = "shopee", "Shopee"
    TELEGRAM = "telegram", "Telegram"
    TWITTER = "twitter", "Twitter/X"
    THREADS = "threads", "Threads"
    GOOGLE = "google", "Google"
    SPOTIFY = "spotify", "Spotify"
    SOUNDCLOUD = "soundcloud", "SoundCloud"
    TWITCH = "twitch", "Twitch"
    DISCORD = "discord", "Discord"
    LINKEDIN = "linkedin", "LinkedIn"
    WEBSITE = "website", _("Website traffic")
    OTHER = "other", _("Other")


# Tried in this order on the lower-cased name; the first that matches wins. Threads before
# Instagram ("Instagram Threads likes" sells on Threads), YouTube before Google.
_PATTERNS = (
    (Platform.THREADS, r"\bthreads?\b"),
    (Platform.FACEBOOK, r"facebook|\bfb\b|fanpage"),
    (Platform.TIKTOK, r"tik\s*tok"),
    (Platform.INSTAGRAM, r"instagram|\binsta\b|\big\b"),
    (Platform.YOUTUBE, r"youtube|\byt\b"),
    (Platform.SHOPEE, r"shopee"),
    (Platform.TELEGRAM, r"telegram|\btele\b"),
    (Platform.TWITTER, r"twitter|tweet|\bx\.com\b|^x\b|\bx/|/x\b"),
    (Platform.GOOGLE, r"google|\bgmail\b|\bmaps\b"),
    (Platform.SPOTIFY, r"spotify"),
    (Platform.SOUNDCLOUD, r"soundcloud"),
    (Platform.TWITCH, r"twitch"),
    (Platform.DISCORD, r"discord"),
    (Platform.LINKEDIN, r"linkedin"),
    (Platform.WEBSITE, r"website|web traffic|\btraffic\b|\bseo\b"),
)
_COMPILED = tuple((platform, re.compile(pattern)) for platform, pattern in _PATTERNS)

# A short mark inside the badge (letters and symbols, not logos: no third-party artwork is
# shipped); each platform's colour is its class in panel.css (`pf-facebook`).
PLATFORM_MARKS = {
    Platform.FACEBOOK: "f",
    Platform.TIKTOK: "♪",
    Platform.INSTAGRAM: "IG",
    Platform.YOUTUBE: "▶",
    Platform.SHOPEE: "S",
    Platform.TELEGRAM: "✈",
    Platform.TWITTER: "X",
    Platform.THREADS: "@",
    Platform.GOOGLE: "G",
    Platform.SPOTIFY: "♫",
    Platform.SOUNDCLOUD: "☁",
    Platform.TWITCH: "T",
    Platform.DISCORD: "D",
    Platform.LINKEDIN: "in",
    Platform.WEBSITE: "www",
    Platform.OTHER: "•",
}


def platform_detect(name: str) -> str:
    """The platform a category name speaks of ("Twitter/X Followers" → twitter), else other."""
    text = name.lower()
    for platform, pattern in _COMPILED:
        if pattern.search(text):
            return platform.value
    return Platform.OTHER.value


def platform_of(prefix: str = "") -> Coalesce:
    """The category's platform in SQL: the operator's choice, else the detected one. `prefix`
    reaches the category from another model ("category__")."""
    return Coalesce(
        NullIf(F(f"{prefix}platform_override"), Value("")),
        F(f"{prefix}platform"),
        output_field=models.CharField(),
    )


def platform_rank() -> Case:
    """The place in Platform's order of a query's `platform` (annotated with platform_of), for
    ORDER BY."""
    return Case(
        *(When(platform=p.value, then=Value(i)) for i, p in enumerate(Platform)),
        default=Value(len(Platform)),
        output_field=models.IntegerField(),
    )
