"""The leaderboard: every memory in one decoder at matched size and budget, on one recall suite.

``registry`` (the contenders, matched parameter counts), ``suite`` (the tasks), ``experiment``
(train and measure one contender), ``frontier`` (the ranked table and the Pareto frontier).
"""
