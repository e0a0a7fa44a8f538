"""The access oracle (issue 19): DESIGN §4 rules 1 and 3 stated in plain Python, compared
with what the portal's own code answers for generated worlds, users and moments."""
