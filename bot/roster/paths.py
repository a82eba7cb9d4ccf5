"""Team paths as the roster writes them: `Sales/EMEA` is a sub-team of `Sales`.

One rule for the CSV import and the behaviour file's user-group mapping, so a path means the same
wherever it is written.
"""

from __future__ import annotations

MAX_SEGMENT = 100
MAX_PATH = 200


def team_path(text: str, what: str) -> str:
    """The path with spaces trimmed around each segment; ValueError naming `what` when it is not one."""
    segments = [segment.strip() for segment in text.split("/")]
    if not text.strip() or any(not segment for segment in segments):
        raise ValueError(f"{what} {text!r} is not a team path such as Sales/EMEA")
    if any(len(segment) > MAX_SEGMENT for segment in segments):
        raise ValueError(f"{what} has a team name longer than {MAX_SEGMENT} characters")
    path = "/".join(segments)
    if len(path) > MAX_PATH:
        raise ValueError(f"{what} is longer than {MAX_PATH} characters")
    return path


def contains(ancestor: str, path: str) -> bool:
    """Whether `path` is `ancestor` or one of its sub-teams."""
    return path == ancestor or path.startswith(ancestor + "/")
