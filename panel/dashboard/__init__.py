"""The operator's dashboard (the admin index): daily rollup, range figures, live health.

House word: "figures" are the counted and summed numbers of a period (orders, revenue, cost,
refunds, by status, by service, by customer): `DayFigures` rows hold one day's, `RangeFigures`
adds days up for the range an operator picks."""
