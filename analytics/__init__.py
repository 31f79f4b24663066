"""What analysts use: the published database, opened read-only, and charts that render Japanese."""
