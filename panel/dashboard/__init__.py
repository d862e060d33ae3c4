"""The operator's dashboard (the admin index): daily rollup, range figures, live health."""
