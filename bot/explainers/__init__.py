"""AI-impact explainers: a content library, the weekly nudge, feedback and questions for the council."""
