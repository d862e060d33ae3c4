"""The sandbox catalog's fixed data: curated services and products, and the word
lists generated services are made from. Rows stay one per line on purpose."""

from __future__ import annotations

DEFAULT = "Default"
PACKAGE = "Package"
CUSTOM_COMMENTS = "Custom Comments"
CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
SUBSCRIPTIONS = "Subscriptions"
# Charged flat per order, not per 1000.
PACKAGE_TYPES = frozenset((PACKAGE, CUSTOM_COMMENTS_PACKAGE))

ServiceRow = tuple[str, str, str, str, int, int, bool, bool, bool]
ProductRow = tuple[str, str, str, int, int, str, str | None, int | None]

# fmt: off
# (name, type, category, rate, min, max, refill, cancel, dripfeed): one per row of
# docs/protocol.md's "add parameters by service type" table, then a few common ones.
CURATED_SERVICES: tuple[ServiceRow, ...] = (
    ("Instagram Followers [Real] [Refill 30D]", DEFAULT, "Instagram Followers", "2.5", 50, 100000, True, True, False),
    ("Instagram Likes [Drip-feed]", DEFAULT, "Instagram Likes", "0.45", 20, 50000, False, True, True),
    ("YouTube Views [HQ] [Non-drop]", DEFAULT, "YouTube Views", "1.8", 200, 10000, True, False, True),
    ("Instagram Followers 1000 [Package]", PACKAGE, "Instagram Packages", "2.2", 1, 1, False, False, False),
    ("Facebook Comments [Custom]", CUSTOM_COMMENTS, "Facebook Comments", "4", 10, 1500, False, False, False),
    ("Instagram 10 Custom Comments [Package]", CUSTOM_COMMENTS_PACKAGE, "Instagram Comments", "1.2", 1, 1, False, False, False),
    ("Instagram Mentions", "Mentions", "Instagram Mentions", "3.5", 100, 10000, False, True, False),
    ("Instagram Mentions with Hashtags", "Mentions with Hashtags", "Instagram Mentions", "4.2", 100, 5000, False, False, False),
    ("Instagram Mentions [Custom List]", "Mentions Custom List", "Instagram Mentions", "5", 10, 1000, False, False, False),
    ("Instagram Mentions [Hashtag]", "Mentions Hashtag", "Instagram Mentions", "3.8", 100, 10000, False, False, False),
    ("Instagram Mentions [User Followers]", "Mentions User Followers", "Instagram Mentions", "4.5", 100, 10000, False, False, False),
    ("Instagram Mentions [Media Likers]", "Mentions Media Likers", "Instagram Mentions", "4.5", 100, 10000, False, False, False),
    ("YouTube Comment Likes", "Comment Likes", "YouTube Comments", "6", 20, 5000, True, False, False),
    ("Twitter/X Poll Votes", "Poll", "Twitter/X Polls", "2.8", 100, 50000, False, True, False),
    ("Telegram Members [Invites from Groups]", "Invites from Groups", "Telegram Members", "1.5", 100, 20000, True, False, False),
    ("Website Traffic [Google Keyword SEO]", "SEO", "Website traffic", "0.9", 500, 1000000, False, False, False),
    ("Instagram Auto Likes [Subscription]", SUBSCRIPTIONS, "Instagram Auto Likes", "0.6", 50, 5000, False, True, False),
    ("TikTok Views [Instant]", DEFAULT, "TikTok Views", "0.0128", 100, 10000000, False, False, True),
    ("Spotify Plays [Premium]", DEFAULT, "Spotify Plays", "0.35", 1000, 10000000, True, True, False),
    ("Telegram Post Views", DEFAULT, "Telegram Post Views", "0.02", 100, 1000000, False, True, True),
    ("Facebook Page Likes [Refill 30D]", DEFAULT, "Facebook Page Likes", "3.1", 100, 50000, True, True, False),
    ("Website Traffic from USA", DEFAULT, "Website traffic", "0.75", 500, 1000000, False, False, True),
)

PLATFORM_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Instagram", ("Followers", "Likes", "Views", "Comments", "Saves", "Story Views", "Reel Views")),
    ("YouTube", ("Views", "Likes", "Subscribers", "Watch Time", "Shorts Views", "Comments")),
    ("TikTok", ("Views", "Likes", "Followers", "Shares", "Comments")),
    ("Facebook", ("Page Likes", "Followers", "Post Likes", "Video Views", "Comments")),
    ("Telegram", ("Members", "Post Views", "Reactions")),
    ("Twitter/X", ("Followers", "Likes", "Retweets", "Views")),
    ("Spotify", ("Plays", "Followers", "Monthly Listeners")),
    ("Website traffic", ("Visitors from USA", "Visitors from Europe", "Google Organic Visitors")),
    ("Twitch", ("Followers", "Live Viewers")),
    ("Threads", ("Followers", "Likes")),
    ("SoundCloud", ("Plays", "Likes")),
    ("Discord", ("Members",)),
)
TAGS = ("[Real]", "[HQ]", "[Non-drop]", "[Instant]", "[Max 100K]", "[Speed 10K/day]", "[Refill 30D]", "[Lifetime Refill]")
STARTS = ("Instant", "0-1 hours", "0-6 hours", "0-24 hours")
MINIMUMS = (10, 20, 50, 100, 200, 500, 1000)
MAXIMUMS = (1000, 5000, 10000, 50000, 100000, 500000, 1000000)

# (name, category, rate, min, max, type, require, inventory); the second is out of stock.
CURATED_PRODUCTS: tuple[ProductRow, ...] = (
    ("Netflix premium 1 month", "Netflix", "2.5", 1, 10, "Auto", "Input your account", 40),
    ("Youtube premium 1 month", "Youtube", "5", 1, 1, "Auto", "Input your account", 0),
    ("Facebook account 5000 friends", "Facebook", "0.5", 1, 2, "Service", None, None),
    ("Spotify premium 3 months", "Spotify", "3.2", 1, 5, "Auto", "Input your email", 25),
    ("Instagram aged account (2019)", "Instagram", "1.75", 1, 20, "Service", None, None),
    ("ChatGPT Plus 1 month (shared)", "ChatGPT", "4", 1, 3, "Auto", "Input your email", 15),
)
BRANDS = ("Netflix", "Disney+", "HBO Max", "Canva", "Duolingo", "NordVPN", "Adobe", "Discord Nitro")
DURATIONS = ("1 month", "3 months", "6 months", "1 year")
# fmt: on
