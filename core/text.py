"""Text from outside the panel that the database can store.

PostgreSQL refuses NUL in text (psycopg raises before the query is sent) and UTF-8 cannot
encode a lone surrogate (a JSON body may carry "\\ud800"). Either would surface as a server
error deep in a query, so input is checked where it enters: the page middleware, the API's
parameter reader and the order field cleaner.
"""

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What a decoder writes in place of bytes that were not UTF-8: a link holding it was garbled
# on the way in, and sending it upstream would buy something for a link nobody typed.
REPLACEMENT_CHARACTER = "\ufffd"


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def is_intact(text: str) -> bool:
    """Storable, and not carrying the mark of undecodable bytes."""
    return is_storable(text) and REPLACEMENT_CHARACTER not in text


def strip_unstorable(text: str) -> str:
    """`text` without what the database cannot store; for what other systems send us, where
    refusing the whole answer would be worse than dropping an invisible character."""
    return _UNSTORABLE.sub("", text)
