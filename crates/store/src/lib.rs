//! medfund-store (under construction)
