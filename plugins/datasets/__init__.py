"""Built-in datasets, one per module (``mixtures`` holds the two 2-D mixtures, one definition with two
parameter sets; ``digit_domains`` the two digit-domain datasets)."""
