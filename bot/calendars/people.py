"""Whose calendar is which: the roster's own values, then the team's, then the default.

Scheduled jobs read the calendars once per run. People who share a time zone and a calendar form
a cohort: a DM falls due for all of them at the same moment, so the due checks look at cohorts
(a handful per team) rather than at every person.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.calendars.days import Calendar, parse_workdays
from bot.models import Person, Team
from bot.settings import Behaviour

# What a row must carry for its person's calendar to be known (the query joins Team on Person.team_id).
CALENDAR_COLUMNS = (Person.tz, Team.path.label("team_path"), Person.workdays, Person.country)


def with_team(query: Select[Any]) -> Select[Any]:
    """`query` joined to the person's team, for the CALENDAR_COLUMNS."""
    return query.join(Team, Team.id == Person.team_id)


@dataclass(frozen=True)
class Cohort:
    """People who share a time zone and a calendar."""

    tz: str
    calendar: Calendar


class CalendarRules:
    """What the behaviour file says about calendars (the default, and each team's own parts),
    and so the calendar of anyone, given their team and their own roster values."""

    def __init__(
        self,
        default: Calendar,
        team_workdays: Mapping[str, frozenset[int]] | None = None,
        team_countries: Mapping[str, str] | None = None,
    ) -> None:
        self.default = default
        self.team_workdays = dict(team_workdays or {})
        self.team_countries = dict(team_countries or {})
        self._known: dict[tuple[str, str | None, str | None], Calendar] = {}

    @classmethod
    def of(cls, behaviour: Behaviour) -> CalendarRules:
        schedule = behaviour.schedule
        teams = behaviour.calendars.teams
        return cls(
            default=Calendar(frozenset(int(day) for day in schedule.workdays), schedule.country),
            team_workdays={path: frozenset(int(d) for d in team.workdays) for path, team in teams.items() if team.workdays},
            team_countries={path: team.country for path, team in teams.items() if team.country},
        )

    def calendar(self, team_path: str, workdays: str | None = None, country: str | None = None) -> Calendar:
        """The calendar of someone in `team_path` with these roster `workdays` and `country`.

        Each part is decided on its own: the person's value, else the nearest team on the way up
        the path that sets it, else the default."""
        key = (team_path, workdays, country)
        found = self._known.get(key)
        if found is None:
            parts = team_path.split("/")
            ancestors = ["/".join(parts[:depth]) for depth in range(len(parts), 0, -1)]
            days = parse_workdays(workdays) if workdays else _nearest(self.team_workdays, ancestors) or self.default.workdays
            where = country or _nearest(self.team_countries, ancestors) or self.default.country
            found = self._known[key] = Calendar(days, where)
        return found


def _nearest(by_path: Mapping[str, Any], ancestors: list[str]) -> Any:
    return next((by_path[path] for path in ancestors if path in by_path), None)


class PeopleCalendars:
    """The calendars of the people on the roster, for one run of a job."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.rules = CalendarRules.of(behaviour)
        self._cohorts: dict[tuple[str, str, str | None, str | None], Cohort] = {}

    def cohort(self, tz: str, team_path: str, workdays: str | None, country: str | None) -> Cohort:
        """The cohort of someone with these CALENDAR_COLUMNS."""
        key = (tz, team_path, workdays, country)
        found = self._cohorts.get(key)
        if found is None:
            found = self._cohorts[key] = Cohort(tz, self.rules.calendar(team_path, workdays, country))
        return found

    def cohorts(self, session: Session) -> set[Cohort]:
        """Every cohort of the people enrolled now."""
        rows = session.execute(with_team(select(*CALENDAR_COLUMNS)).where(Person.active.is_(True)).distinct())
        return {self.cohort(*row) for row in rows}


@dataclass(frozen=True)
class DueCohorts:
    """The cohorts a DM is due for in one week, and so the people it is due for."""

    calendars: PeopleCalendars
    cohorts: frozenset[Cohort]

    def __bool__(self) -> bool:
        return bool(self.cohorts)

    def only(self, keep: Callable[[Cohort], bool]) -> DueCohorts:
        return DueCohorts(self.calendars, frozenset(cohort for cohort in self.cohorts if keep(cohort)))

    def people(
        self, session: Session, *criteria: ColumnElement[bool], columns: Iterable[Any] = (Person.id,)
    ) -> list[tuple[Any, ...]]:
        """`columns` of the people in these cohorts who meet `criteria`."""
        wanted = tuple(columns)
        found = namedtuple("Found", [column.key for column in wanted])  # type: ignore[misc]
        zones = sorted({cohort.tz for cohort in self.cohorts})
        labelled = [column.label(f"calendar_{index}") for index, column in enumerate(CALENDAR_COLUMNS)]
        rows = session.execute(with_team(select(*wanted, *labelled)).where(Person.tz.in_(zones), *criteria))
        return [
            found(*row[: len(wanted)]) for row in rows if self.calendars.cohort(*row[len(wanted) :]) in self.cohorts
        ]
