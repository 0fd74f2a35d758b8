"""The static HTML report: ranking with CIs, breakdowns, SVG plots and a filterable gallery."""

from leaderboard.report.site import write_report

__all__ = ["write_report"]
