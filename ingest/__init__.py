"""From a landing file to the raw tables, Dagster-free: the extract specs (``specs``), the landing
zone (``landing``), decoding (``decoding``), the strict loaders (``loading``), the volume and freshness
judgments (``judging``) and the raw schema's DDL (``raw_schema``). The demo generator is ``demo/``."""
