"""Test doubles, one home for each: messengers, providers, interactions."""
