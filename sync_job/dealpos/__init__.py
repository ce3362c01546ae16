"""DealPOS side of the mirror: a paced, classifying API client."""

from sync_job.dealpos.client import DealposClient
from sync_job.dealpos.pacer import Pacer
from sync_job.dealpos.stats import CallStats

__all__ = ["CallStats", "DealposClient", "Pacer"]
