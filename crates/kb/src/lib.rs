//! medfund-kb (under construction)
