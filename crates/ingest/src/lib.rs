//! medfund-ingest (under construction)
