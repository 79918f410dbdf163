//! medfund-server (under construction)
