"""The weekly release: what leaves the database, decided once per week."""
