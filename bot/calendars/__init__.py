"""Each person's working week: the days they work, and the public holidays where they work.

A person is asked (pulse, reminder, explainer) only on a workday of their own calendar, on their
own local date: a day of their working week that is not a public holiday in their country. Each
part of a calendar is decided on its own, the first that sets it winning:

1. the person's row of the roster CSV (`workdays`, `country`);
2. the team's entry under `calendars.teams` in the behaviour file, the nearest one on the way
   up the team's path (`Operations/Dubai/Night` reads `Operations/Dubai/Night`, then
   `Operations/Dubai`, then `Operations`);
3. the default: `schedule.workdays` and `schedule.country`.

Public holidays come from the `holidays` package (national holidays of an ISO 3166-1 alpha-2
country, with the days off it observes in their place). Without a country nobody's holidays are
known and only the working week counts.
"""
