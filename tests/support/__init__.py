"""Helpers shared by the tests, the benchmarks and the docs' scripts: scratch projects
(project.py) and real servers on loopback ports (servers.py)."""
