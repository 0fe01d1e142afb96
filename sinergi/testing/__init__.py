"""Test doubles and fixtures shipped with sinergi, for our tests and for plugin authors'."""
