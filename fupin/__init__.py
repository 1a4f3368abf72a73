"""fupin — targeted poverty alleviation and return-to-poverty monitoring."""
