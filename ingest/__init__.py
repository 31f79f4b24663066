"""Landing-zone side of the warehouse: extract specs, readers, the demo generator and the loader."""
