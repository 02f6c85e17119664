"""Tests of the service; they run offline."""
