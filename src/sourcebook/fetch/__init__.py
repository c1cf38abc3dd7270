"""Fetching from the web safely: ``guard.py`` refuses private addresses and pins the checked IP
for the connection; ``client.py`` bounds each fetch (size, time, redirects checked hop by hop),
honours robots.txt and keeps a polite rate per host. See docs/sources.md."""
