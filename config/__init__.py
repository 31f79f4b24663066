"""What every part of the warehouse reads alike: the repository and data layout (``layout``) and the settings (``settings``)."""
