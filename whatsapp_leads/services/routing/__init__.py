"""Routing rules a sales manager sets per campaign, in small parts.

- ``hours``: the business's time zone and each member's working hours.
- ``eligibility``: which members may take a lead now (active, not paused, under the daily cap,
  on duty) and, when nobody is on duty, who is on duty next.
- ``strategies``: how one member is picked among the eligible: round robin, weighted, least loaded.
- ``keywords``: which campaign claims a chat that came without an ad, by its first message.

``services.assignment`` puts them together under the campaign's row lock.
"""
