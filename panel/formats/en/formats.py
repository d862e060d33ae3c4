# Unambiguous dates for an international English reader: 2026-12-06 14:30.
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
