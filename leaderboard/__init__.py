"""The leaderboard: submissions, verification, the board store, the HTML report and comparisons."""
