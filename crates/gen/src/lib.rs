//! medfund-gen (under construction)
