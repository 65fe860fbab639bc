"""labutils: what the genlabs notebooks share.

Modules (import them explicitly; importing labutils imports no backend). One module per model
family owns its Keras models, its measurements and its figures (these import Keras):

* :mod:`labutils.autoencoders` - dense (classic, deep, linear, sparse), contractive, denoising, tied, stacked and
  convolutional autoencoders; their training recipe, measurements, baselines and figures; t-SNE of codes
* :mod:`labutils.vae` - the VAE: sampling layer, model with its train_step, KL warm-up, importance-sampled
  likelihood, Gaussian KL, active units
* :mod:`labutils.gan` - DCGAN and conditional GAN with their train_step, sample-grid and quality callbacks, figures
* :mod:`labutils.rbm` - the RBM (CD-k / persistent CD train_step), its likelihoods (free energy,
  pseudo-likelihood, exact and AIS log partition function), Gibbs chains, deep-belief-net helpers, figures
* :mod:`labutils.sequence` - sequence autoencoders: a GRU encoder-decoder that reads an image row by row, and the
  variational recurrent autoencoder inside the VAE model
* :mod:`labutils.anomaly` - anomaly detection: held-out-class split, scores in nats (reconstruction error, negative
  ELBO, PCA and mean-image baselines), ROC AUC and precision at a fixed recall, the other data set as outliers

What two or more families use:

* :mod:`labutils.backends` - everything that differs between TensorFlow, JAX and PyTorch: gradients, a
  ``keras.Model`` base whose stateful ``train_step`` also runs under JAX, input Jacobians

* :mod:`labutils.data` - MNIST and Fashion-MNIST online/offline, corruptions, binarization
* :mod:`labutils.metrics` - BCE, MSE, PSNR, SSIM (no backend needed), k-NN accuracy, the base-rate model, judge outputs,
  Fréchet distance, class coverage
* :mod:`labutils.plots` - image grids, training curves, x-y plots, latent scatter, confusion matrix
* :mod:`labutils.classifiers` - CNN and encoder classifiers, their training recipe, the judge
* :mod:`labutils.training` - the Adam (cosine-decay) training recipe of autoencoders and classifiers
* :mod:`labutils.paths` - the build directory and the model cache
* :mod:`labutils.profile` - full vs quick (CI) profile via ``LABS_PROFILE``
* :mod:`labutils.checks` - quality bars and the results report
* :mod:`labutils.runner` - ``make run``: execute notebooks, collect results
* :mod:`labutils.grading` - nbgrader autograding in a sandbox
"""
import sys as _sys

__version__ = "0.1.0"
# The Python versions labutils supports; pyproject.toml's requires-python says the same (tests/test_wheel.py checks).
SUPPORTED_PYTHON = ((3, 11), (3, 12))
if not SUPPORTED_PYTHON[0] <= tuple(_sys.version_info[:2]) <= SUPPORTED_PYTHON[-1]:
    raise ImportError(
        f"labutils supports Python {SUPPORTED_PYTHON[0][0]}.{SUPPORTED_PYTHON[0][1]} and "
        f"{SUPPORTED_PYTHON[-1][0]}.{SUPPORTED_PYTHON[-1][1]}; this is Python {_sys.version_info[0]}."
        f"{_sys.version_info[1]}. Create the environment with a supported Python, e.g. "
        f"`make install PYTHON=python3.11`.")
