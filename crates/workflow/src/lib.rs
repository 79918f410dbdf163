//! medfund-workflow (under construction)
