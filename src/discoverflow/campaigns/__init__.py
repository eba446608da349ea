"""Campaign files of every kind: load one, then check, run, submit or report it."""

from discoverflow.campaigns.loading import load_campaign, load_config

__all__ = ["Campaign", "CampaignRecord", "load_campaign", "load_config"]


def __getattr__(name: str):
    """``Campaign`` and ``CampaignRecord`` on first use: they load jobflow and the Makers,
    which reading a campaign file does not need."""
    if name in ("Campaign", "CampaignRecord"):
        from discoverflow.campaigns import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
