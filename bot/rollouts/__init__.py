"""Rollouts: a tool or workflow, its go-live and the teams it covers; weeks since go-live,
time-to-competency, the pause signal, and the council's decisions."""
