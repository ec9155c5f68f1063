"""The model families of the course, one short file each (bigram, char MLP, VAE, GAN, GPT, diffusion)."""
