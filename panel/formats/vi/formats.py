# Dates as Vietnamese customers and operators write them: 06/12/2026 14:30 (Django's own read
# "H:i d-m-Y" and "04:14 Ngày 06 tháng 12 năm 2026", too long for a table column).
DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
