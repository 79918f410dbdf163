//! medfund-models (under construction)
