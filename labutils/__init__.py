"""labutils: what the genlabs notebooks share.

Modules (import them explicitly; importing labutils does not import TensorFlow):

* :mod:`labutils.data` - MNIST online/offline, corruptions, binarization
* :mod:`labutils.profile` - full vs quick (CI) profile via ``LABS_PROFILE``
* :mod:`labutils.models` - shared model builders, baselines, model cache
* :mod:`labutils.metrics` - reconstruction metrics, KL, importance-sampled likelihood, active units
* :mod:`labutils.vae` - the VAE: sampling layer, model with its train_step, KL warm-up (imports Keras)
* :mod:`labutils.rbm` - the RBM (CD-k / persistent CD train_step), Gibbs chains, deep-belief-net helpers (imports Keras)
* :mod:`labutils.plots` - image grids, reconstruction figure, training curves, latent scatter
* :mod:`labutils.checks` - quality bars and the results report
* :mod:`labutils.runner` - ``make run``: execute notebooks, collect results
"""
__version__ = "0.1.0"
