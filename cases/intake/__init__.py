"""The referral import: reading a file (`files`), checking its rows (`rows`), writing them
(`services`), the reads it needs (`selectors`) and its text report (`report`)."""
