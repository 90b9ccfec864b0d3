"""Every write of the reports feature: bulletins kept for download, and the notices of hotspots."""
