"""Campaign files of every kind: load one, then check, run, submit or report it."""

from discoverflow.campaigns.base import Campaign, CampaignRecord
from discoverflow.campaigns.loading import load_campaign, load_config

__all__ = ["Campaign", "CampaignRecord", "load_campaign", "load_config"]
