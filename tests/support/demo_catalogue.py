"""What the demo crawl is expected to flag, beside the catalogue's own labels."""

# Listings the classifier is known to flag wrongly, with the category it gives. Model 2 (issue 11) reads this
# Faraday tin's description ("bought two", "keep by the front door", "car won't open") as a relay kit's. Kept
# here, named, so the crawl test still fails on any other change in what is flagged; README lists it in Limits.
KNOWN_FALSE_FLAGS = {"DM10071": "relay_attack"}
