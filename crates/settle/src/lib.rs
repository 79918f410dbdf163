//! medfund-settle (under construction)
