"""Run folders and what is computed from them: records, metrics, reports, leaderboard, comparison, Prometheus.

Nothing here imports DSPy: these read files."""
