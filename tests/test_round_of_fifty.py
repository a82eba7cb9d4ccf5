"""A whole round: 50 people across time zones, answered with clicks through the HTTP endpoint."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text

from bot.db import Database
from bot.models import Delivery, Response
from bot.privacy import week_pseudonym
from bot.settings import Settings
from bot.surveys.service import run_pulse_job
from tests import factories, stored
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons, dm

ZONES = ["Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "America/New_York"]
TEAMS = ["Sales/EMEA", "Sales/Americas", "Finance", "Operations/Support", "Engineering"]
PEOPLE = [f"U{index:04d}FIFTY" for index in range(50)]


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def test_a_round_for_fifty_people_lands_once_per_person_without_user_ids(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    for user_id, zone, team in zip(PEOPLE, itertools.cycle(ZONES), itertools.cycle(TEAMS), strict=False):
        factories.person(db, user_id, tz=zone, team_path=team)

    # Tick through Tuesday every half hour, as the scheduler would (and run each tick twice).
    with freeze_time("2026-11-24 00:00") as clock:
        for _ in range(48):
            run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
            run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
            clock.tick(1800)
    recipients = [call.params["channel"] for call in slack.calls_to("chat.postMessage")]
    assert sorted(recipients) == sorted(PEOPLE)

    with freeze_time("2026-11-25 12:00"):
        for index, user_id in enumerate(PEOPLE):
            message = dm(slack, user_id)
            for action_id, button in buttons(message).items():
                if not action_id.startswith("pulse_answer:") or not action_id.endswith(f":{index % 2}"):
                    continue
                for _ in range(2 if index % 5 == 0 else 1):  # some people double-click
                    app.requests.block_action(
                        user_id, action_id, button["value"], channel_id="D" + user_id[1:], message_ts=message["ts"]
                    )
        app.settle()

    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent")) == 50
        assert session.scalar(select(func.count()).select_from(Response)) == 50
        pseudonyms = set(session.scalars(select(Response.pseudonym)))
        assert pseudonyms == {week_pseudonym(app.key, "2026-W48", user_id) for user_id in PEOPLE}

        # No raw Slack user id appears anywhere in what was answered.
        dump = "\n".join(
            str(row)
            for table in ("responses",)
            for row in session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 — fixed names
        )
    assert not any(user_id in dump for user_id in PEOPLE)
    assert {len(response.answers) for response in stored.responses(db, app.key)} == {6}  # double clicks add nothing
    # Everyone's message shows what was recorded.
    assert all("All 6 answered" in str(dm(slack, user_id)["blocks"]) for user_id in PEOPLE)
