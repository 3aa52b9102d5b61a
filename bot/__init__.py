"""Consular hotline and case-triage bot."""
