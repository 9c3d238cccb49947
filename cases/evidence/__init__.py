"""Kept evidence: captured pages (WARC, text, screenshot) and attached files of findings."""
