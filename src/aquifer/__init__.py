"""Aquifer: groundwater management information system for a county water bureau."""

__version__ = "0.1.0"
