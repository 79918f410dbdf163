//! medfund-monitor (under construction)
