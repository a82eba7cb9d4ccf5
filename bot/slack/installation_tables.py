"""The tables of OAuth mode, as slack_sdk's SQLAlchemy stores define them, on our metadata.

Migration 0015 creates them (the stores' own `create_tables` is never called), and the migration
tests compare the database with these definitions, so the schema is exactly what the stores read
and write, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.db import Base

INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name)
OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, SQLAlchemyOAuthStateStore.default_table_name)
