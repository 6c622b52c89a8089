"""Back-office pages of the funding: the overview of the money, the agreements with their lines, instalments and
repayments, and the funders. Everyone reads through the scoped selectors (an agreement out of reach answers 404);
only Sicoval staff write, through the services (anyone else gets 403)."""
