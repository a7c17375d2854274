"""The schema of the release before migrations, frozen: what its `create_all` made.

Copied from the statements `Base.metadata.create_all` sent at that commit (002c92b), so the
tests build an old database as production has it, whatever the models become. Never edit.
"""

from __future__ import annotations

SQLITE = [
    """CREATE TABLE registrations (
    seq INTEGER NOT NULL,
    id VARCHAR(16) NOT NULL,
    event_slug VARCHAR(64) NOT NULL,
    received_at DATETIME NOT NULL,
    status VARCHAR(16) NOT NULL,
    source VARCHAR(8) NOT NULL,
    first_name VARCHAR(60) NOT NULL,
    last_name VARCHAR(60) NOT NULL,
    enterprise_name VARCHAR(200) NOT NULL,
    enterprise_key VARCHAR(200) NOT NULL,
    powiat VARCHAR(4) NOT NULL,
    role VARCHAR(100),
    email VARCHAR(254) NOT NULL,
    email_key VARCHAR(254) NOT NULL,
    phone VARCHAR(30) NOT NULL,
    pesel VARCHAR(11),
    birth_date DATE,
    accommodation BOOLEAN NOT NULL,
    diet VARCHAR(16) NOT NULL,
    diet_other VARCHAR(200),
    special_needs TEXT,
    consent_personal_data BOOLEAN NOT NULL,
    consent_image BOOLEAN NOT NULL,
    consent_version VARCHAR(64) NOT NULL,
    consent_given_at DATETIME NOT NULL,
    synced_to VARCHAR(300),
    synced_at DATETIME,
    PRIMARY KEY (seq),
    CONSTRAINT uq_registration_event_email UNIQUE (event_slug, email_key),
    UNIQUE (id)
)""",
    """CREATE INDEX ix_registrations_enterprise_key ON registrations (enterprise_key)""",
    """CREATE INDEX ix_registration_event_sync ON registrations (event_slug, synced_to)""",
    """CREATE TABLE event_state (
    slug VARCHAR(64) NOT NULL,
    closing_started_at DATETIME,
    closed_off_at DATETIME,
    summary_written_at DATETIME,
    protected_at DATETIME,
    mail_claimed_at DATETIME,
    mail_sent_at DATETIME,
    close_off_error TEXT,
    PRIMARY KEY (slug)
)""",
    """CREATE TABLE sync_status (
    target VARCHAR(300) NOT NULL,
    last_success_at DATETIME,
    last_error TEXT,
    last_error_code VARCHAR(32),
    last_error_at DATETIME,
    PRIMARY KEY (target)
)""",
    """CREATE TABLE leases (
    name VARCHAR(64) NOT NULL,
    holder VARCHAR(128) NOT NULL,
    expires_at DATETIME NOT NULL,
    PRIMARY KEY (name)
)""",
]

POSTGRESQL = [
    """CREATE TABLE registrations (
    seq SERIAL NOT NULL,
    id VARCHAR(16) NOT NULL,
    event_slug VARCHAR(64) NOT NULL,
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    status VARCHAR(16) NOT NULL,
    source VARCHAR(8) NOT NULL,
    first_name VARCHAR(60) NOT NULL,
    last_name VARCHAR(60) NOT NULL,
    enterprise_name VARCHAR(200) NOT NULL,
    enterprise_key VARCHAR(200) NOT NULL,
    powiat VARCHAR(4) NOT NULL,
    role VARCHAR(100),
    email VARCHAR(254) NOT NULL,
    email_key VARCHAR(254) NOT NULL,
    phone VARCHAR(30) NOT NULL,
    pesel VARCHAR(11),
    birth_date DATE,
    accommodation BOOLEAN NOT NULL,
    diet VARCHAR(16) NOT NULL,
    diet_other VARCHAR(200),
    special_needs TEXT,
    consent_personal_data BOOLEAN NOT NULL,
    consent_image BOOLEAN NOT NULL,
    consent_version VARCHAR(64) NOT NULL,
    consent_given_at TIMESTAMP WITH TIME ZONE NOT NULL,
    synced_to VARCHAR(300),
    synced_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (seq),
    CONSTRAINT uq_registration_event_email UNIQUE (event_slug, email_key),
    UNIQUE (id)
)""",
    """CREATE INDEX ix_registrations_enterprise_key ON registrations (enterprise_key)""",
    """CREATE INDEX ix_registration_event_sync ON registrations (event_slug, synced_to)""",
    """CREATE TABLE event_state (
    slug VARCHAR(64) NOT NULL,
    closing_started_at TIMESTAMP WITH TIME ZONE,
    closed_off_at TIMESTAMP WITH TIME ZONE,
    summary_written_at TIMESTAMP WITH TIME ZONE,
    protected_at TIMESTAMP WITH TIME ZONE,
    mail_claimed_at TIMESTAMP WITH TIME ZONE,
    mail_sent_at TIMESTAMP WITH TIME ZONE,
    close_off_error TEXT,
    PRIMARY KEY (slug)
)""",
    """CREATE TABLE sync_status (
    target VARCHAR(300) NOT NULL,
    last_success_at TIMESTAMP WITH TIME ZONE,
    last_error TEXT,
    last_error_code VARCHAR(32),
    last_error_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (target)
)""",
    """CREATE TABLE leases (
    name VARCHAR(64) NOT NULL,
    holder VARCHAR(128) NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (name)
)""",
]

DDL = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
