"""Built-in divergences, one per module (f-GAN's family shares one table of conjugates in ``fgan``)."""
