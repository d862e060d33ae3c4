# Dates as Vietnamese customers write them: 06/12/2026 14:30 (Django's own are "H:i d-m-Y").
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
