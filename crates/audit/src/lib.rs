//! medfund-audit (under construction)
