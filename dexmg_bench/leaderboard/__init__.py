"""Leaderboard code: submission schema, grading, the board page (data lives in leaderboard/)."""
