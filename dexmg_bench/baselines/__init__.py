"""Reference policies (BC-RNN, BC-RNN-GMM, Diffusion Policy); torch comes with `baselines`."""
