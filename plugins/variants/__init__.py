"""Built-in variants, one per module, with the networks several of them share beside them
(``mlp_nets``: the MLP players of GAN, CGAN, EBGAN and the VAE; ``translation_nets``: CycleGAN's and StarGAN's)."""
