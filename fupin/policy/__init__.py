"""The rules engine: dated, region-scoped parameters and rules evaluated one case at a time or
vectorised over a roster with Polars, with identical results. No Django imports here."""
