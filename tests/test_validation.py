"""Every public labutils function refuses nonsense input with a clear error (issue 13, item 2).

Property-based (Hypothesis) tests feed the public API complex and object
arrays, arrays with NaN or inf, booleans and non-positive numbers as sizes,
bad seeds and learning rates, unsafe names and unbatched images, and check
that each call raises ``ValueError`` or ``TypeError`` whose message names the
argument. Every bad input is refused before any training, drawing, file read
or download starts, so the few Keras models needed here are built once per
module and never trained. Plain tests below cover the data files (``.npz``
and IDX, gzip and zip bombs), lab numbers and names that must stay inside the
build folder.
"""
from __future__ import annotations

import gzip
import io
import math
import re
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import idx_bytes, synthetic_mnist
from labutils import _validate, checks, classifiers, data, metrics, paths, plots, profile, runner

keras = pytest.importorskip("keras")
from labutils import autoencoders, gan, rbm, vae  # noqa: E402  (these import Keras)

# Few examples per property: each case is one public function, and the suite has ~180 of them.
EXAMPLES = 10
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

RNG = np.random.default_rng(0)
IMAGES = RNG.random((2, 16)).astype(np.float32)          # two 4x4 images in [0, 1]
FLAT = RNG.random((2, 784)).astype(np.float32)           # two MNIST-sized flat images
BINARY = (RNG.random((2, 784)) < 0.5).astype(np.float32)
LABELS = np.arange(40) % 10
CODES = RNG.standard_normal((40, 3))
W, B, C = RNG.standard_normal((4, 2)) * 0.1, np.zeros(4), np.zeros(2)  # a 4-2 RBM as (W, b, c)
START = np.zeros((1, 4), np.float32)


def _names(text: str, name: str) -> bool:
    """``name`` occurs in ``text`` as a whole word (``x`` does not count inside ``x_hat``)."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def _refused(call, name, *, at_start=False):
    """``call()`` raises ValueError or TypeError and its message names ``name``."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    if at_start:
        assert message.startswith(name), f"{message!r} does not start with {name!r}"
    else:
        assert _names(message, name), f"{message!r} does not name {name!r}"


@pytest.fixture(scope="module")
def tiny():
    """The few small Keras models the cases need, built once and never trained."""
    keras.utils.set_random_seed(0)
    x_in = keras.Input((784,))
    classifier = keras.Model(x_in, keras.layers.Dense(10, activation="softmax")(x_in))
    encoder = keras.Model(x_in, keras.layers.Dense(2, activation="sigmoid")(x_in))
    autoencoder = autoencoders.dense_autoencoder(784, 2, activation="linear", output_activation="linear")[0]
    v = vae.build_vae(2, hidden_units=(4,), seed=0)
    g = gan.build_gan(2, g_filters=(2, 2), d_filters=(2, 2), seed=0)
    machine = rbm.RBM(784, 2, seed=0)
    return {"classifier": classifier, "encoder": encoder, "autoencoder": autoencoder, "vae": v, "gan": g,
            "rbm": machine}


def _sgd(_layer):
    return keras.optimizers.SGD(0.1)


# ---------------------------------------------------------------- bad arrays

KINDS = ("complex", "complex with zero imaginary part", "object", "nan", "inf", "-inf")


@st.composite
def bad_arrays(draw, shape, lo=0.0, hi=1.0, kinds=KINDS):
    """An array of ``shape`` with values in [lo, hi] that is complex, object, or holds one NaN/inf."""
    kind = draw(st.sampled_from(kinds))
    seed = draw(st.integers(0, 2**32 - 1))
    arr = (lo + (hi - lo) * np.random.default_rng(seed).random(shape)).astype(np.float32)
    if kind == "complex":
        return arr + 1j * draw(st.floats(1e-3, 1.0))
    if kind == "complex with zero imaginary part":  # refused too: real arrays have a real dtype
        return arr.astype(np.complex128)
    if kind == "object":
        return arr.astype(object)
    flat = arr.reshape(-1)
    flat[draw(st.integers(0, flat.size - 1))] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
    return arr


TYPES_ONLY = ("complex", "complex with zero imaginary part", "object")  # where NaN is meaningful (curves)

# (id, shape, domain, kinds, name, call(bad, tiny))
ARRAY_CASES = [
    ("data.gaussian_noise", (2, 16), (0, 1), KINDS, "x", lambda a, t: data.gaussian_noise(a)),
    ("data.masking_noise", (2, 16), (0, 1), KINDS, "x", lambda a, t: data.masking_noise(a)),
    ("data.salt_and_pepper", (2, 16), (0, 1), KINDS, "x", lambda a, t: data.salt_and_pepper(a)),
    ("data.binarize", (2, 16), (0, 1), KINDS, "x", lambda a, t: data.binarize(a)),
    ("data.dynamic_binarize", (2, 16), (0, 1), KINDS, "x", lambda a, t: data.dynamic_binarize(a)),
    ("data.stratified_subset", (40,), (0, 9), TYPES_ONLY, "labels", lambda a, t: data.stratified_subset(a, 10)),
    ("autoencoders.corrupt", (2, 16), (0, 1), KINDS, "x", lambda a, t: autoencoders.corrupt(a, "gaussian", 0.1)),
    ("autoencoders.median_filter", (2, 16), (0, 1), KINDS, "x", lambda a, t: autoencoders.median_filter(a)),
    ("autoencoders.NoisyBatches", (2, 16), (0, 1), KINDS, "x", lambda a, t: autoencoders.NoisyBatches(a, "masking", 0.1)),
    ("autoencoders.tsne", (40, 3), (-1, 1), KINDS, "codes", lambda a, t: autoencoders.tsne(a)),
    ("metrics.bce", (2, 16), (0, 1), KINDS, "x", lambda a, t: metrics.bce(a, IMAGES)),
    ("metrics.mse", (2, 16), (0, 1), KINDS, "x_hat", lambda a, t: metrics.mse(IMAGES, a)),
    ("metrics.per_image_psnr", (2, 16), (0, 1), KINDS, "x", lambda a, t: metrics.per_image_psnr(a, IMAGES)),
    ("metrics.per_image_ssim", (2, 16), (0, 1), KINDS, "x_hat", lambda a, t: metrics.per_image_ssim(IMAGES, a)),
    ("autoencoders.reconstruction_mse", (2, 16), (-2, 2), KINDS, "x_hat",
     lambda a, t: autoencoders.reconstruction_mse(IMAGES, a)),
    ("autoencoders.sensitivity_ratio", (2, 3), (-1, 1), KINDS, "codes",
     lambda a, t: autoencoders.sensitivity_ratio(a, CODES[:2], CODES[:2])),
    ("vae.gaussian_kl", (2, 3), (-1, 1), KINDS, "z_mean", lambda a, t: vae.gaussian_kl(a, CODES[:2])),
    ("vae.active_units", (5, 3), (-1, 1), KINDS, "z_mean", lambda a, t: vae.active_units(a)),
    ("vae.importance_sampled_log_likelihood", (2, 4), (-90, -80), KINDS, "log_weights",
     lambda a, t: vae.importance_sampled_log_likelihood(a)),
    ("autoencoders.activation_stats", (5, 3), (0, 1), KINDS, "codes", lambda a, t: autoencoders.activation_stats(a)),
    ("metrics.feature_statistics", (5, 3), (-1, 1), KINDS, "features", lambda a, t: metrics.feature_statistics(a)),
    ("metrics.frechet_distance", (3,), (-1, 1), KINDS, "mu1",
     lambda a, t: metrics.frechet_distance(a, np.eye(3), np.zeros(3), np.eye(3))),
    ("metrics.kl_to_uniform", (4,), (0.25, 0.25), KINDS, "histogram", lambda a, t: metrics.kl_to_uniform(a)),
    ("metrics.classifier_score", (4, 2), (0.5, 0.5), KINDS, "probabilities",
     lambda a, t: metrics.classifier_score(a)),
    ("metrics.knn_accuracy", (40, 3), (-1, 1), KINDS, "train_codes",
     lambda a, t: metrics.knn_accuracy(a, LABELS, CODES, LABELS)),
    ("rbm.free_energy", (2, 4), (0, 1), KINDS, "v", lambda a, t: rbm.free_energy(a, W, B, C)),
    ("rbm.free_energy weights", (4, 2), (-1, 1), KINDS, "weights",
     lambda a, t: rbm.free_energy(START, a, B, C)),
    ("metrics.base_rate_visible_bias", (2, 4), (0, 1), KINDS, "x", lambda a, t: metrics.base_rate_visible_bias(a)),
    ("rbm.ais_log_partition", (4,), (-1, 1), KINDS, "base_visible_bias",
     lambda a, t: rbm.ais_log_partition(W, B, C, base_visible_bias=a, n_betas=3, n_runs=2)),
    ("autoencoders.mean_image_reconstruction", (2, 16), (0, 1), KINDS, "x_train",
     lambda a, t: autoencoders.mean_image_reconstruction(a, 2)),
    ("autoencoders.pca_reconstruction", (2, 16), (0, 1), KINDS, "x_test",
     lambda a, t: autoencoders.pca_reconstruction(IMAGES, a, 1)),
    ("classifiers.train_classifier", (2, 784), (0, 1), KINDS, "x_train",
     lambda a, t: classifiers.train_classifier(t["classifier"], a, np.arange(2), epochs=1, verbose=0)),
    ("autoencoders.fit_autoencoder", (2, 784), (0, 1), KINDS, "x_train",
     lambda a, t: autoencoders.fit_autoencoder(t["autoencoder"], a, epochs=1, verbose=0)),
    ("autoencoders.encoder_jacobian_norm", (2, 784), (0, 1), KINDS, "x",
     lambda a, t: autoencoders.encoder_jacobian_norm(t["encoder"], a)),
    ("autoencoders.code_sensitivity", (2, 784), (0, 1), KINDS, "x",
     lambda a, t: autoencoders.code_sensitivity(t["encoder"], a)),
    ("autoencoders.logistic_probe", (40, 3), (-1, 1), KINDS, "train_features",
     lambda a, t: autoencoders.logistic_probe(a, LABELS, CODES, LABELS)),
    ("autoencoders.contractive_penalty", (2, 2), (0, 1), TYPES_ONLY, "code",
     lambda a, t: autoencoders.contractive_penalty(a, np.ones((4, 2), np.float32))),
    ("VAE.fit", (2, 784), (0, 1), KINDS, "x", lambda a, t: t["vae"].fit(a, epochs=1, verbose=0)),
    ("VAE.decode_means", (2, 2), (-1, 1), KINDS, "z", lambda a, t: t["vae"].decode_means(a)),
    ("vae.log_importance_weights", (2, 784), (0, 1), KINDS, "x",
     lambda a, t: vae.log_importance_weights(t["vae"], a, 2)),
    ("gan.to_tanh_range", (2, 16), (0, 1), KINDS, "x", lambda a, t: gan.to_tanh_range(a)),
    ("gan.to_unit_range", (2, 16), (-1, 1), KINDS, "x", lambda a, t: gan.to_unit_range(a)),
    ("GAN.fit", (2, 28, 28, 1), (-1, 1), KINDS, "x", lambda a, t: t["gan"].fit(a, epochs=1, verbose=0)),
    ("GAN.generate", (2, 2), (-1, 1), KINDS, "z", lambda a, t: t["gan"].generate(2, z=a)),
    ("gan.SampleGrid", (2, 2), (-1, 1), KINDS, "z", lambda a, t: gan.SampleGrid(a)),
    ("RBM.fit", (2, 784), (0, 1), KINDS, "x", lambda a, t: t["rbm"].fit(a, epochs=1, verbose=0)),
    ("rbm.gibbs_chains", (1, 4), (0, 1), KINDS, "start", lambda a, t: rbm.gibbs_chains((W, B, C), a, 2)),
    ("rbm.chain_figure", (1, 2, 16), (0, 1), KINDS, "chains", lambda a, t: rbm.chain_figure(a, side=4)),
    ("rbm.free_energy_figure", (5,), (-9, 9), KINDS, "free_energies",
     lambda a, t: rbm.free_energy_figure({"test": a})),
    ("rbm.greedy_stack", (2, 4), (0, 1), KINDS, "x",
     lambda a, t: rbm.greedy_stack(a, (2,), epochs=1, optimizer_factory=_sgd, verbose=0)),
    ("rbm.stack_features", (2, 784), (0, 1), KINDS, "x", lambda a, t: rbm.stack_features([t["rbm"]], a)),
    ("plots.image_grid", (2, 16), (0, 1), KINDS, "images", lambda a, t: plots.image_grid(a)),
    ("autoencoders.reconstruction_figure", (2, 16), (0, 1), KINDS, "originals",
     lambda a, t: autoencoders.reconstruction_figure(a, CODES[:2, :2], IMAGES, code_shape=(1, 2), n=2)),
    ("autoencoders.reconstruction_figure codes", (2, 2), (-1, 1), KINDS, "codes",
     lambda a, t: autoencoders.reconstruction_figure(IMAGES, a, IMAGES, code_shape=(1, 2), n=2)),
    ("plots.training_curves", (3,), (0, 1), TYPES_ONLY, "history['loss']",
     lambda a, t: plots.training_curves({"loss": a})),
    ("plots.compare_curves", (3,), (0, 1), TYPES_ONLY, "curves['run']",
     lambda a, t: plots.compare_curves({"run": a}, ylabel="loss")),
    ("plots.latent_scatter", (3, 2), (-1, 1), KINDS, "codes",
     lambda a, t: plots.latent_scatter(a, np.arange(3))),
    ("autoencoders.filter_grid", (16, 4), (-1, 1), KINDS, "weights", lambda a, t: autoencoders.filter_grid(a, n=4)),
    ("autoencoders.image_rows", (2, 16), (0, 1), KINDS, "rows['clean']",
     lambda a, t: autoencoders.image_rows({"clean": a}, n=2)),
    ("gan.gan_progress", (3,), (1, 2), KINDS, "fd_ratio",
     lambda a, t: gan.gan_progress({"epoch": [1, 2, 3], "fd_ratio": a, "kl_uniform": [0.1] * 3,
                                      "classifier_score": [2.0] * 3})),
    ("gan.class_histograms", (4,), (0.25, 0.25), KINDS, "histograms['real']",
     lambda a, t: gan.class_histograms({"real": a})),
]


@pytest.mark.parametrize("case", ARRAY_CASES, ids=[c[0] for c in ARRAY_CASES])
@PROPERTY
@given(draw=st.data())
def test_complex_object_and_non_finite_arrays_are_refused(case, draw, tiny):
    _, shape, (lo, hi), kinds, name, call = case
    bad = draw.draw(bad_arrays(shape, lo, hi, kinds), label="bad array")
    _refused(lambda: call(bad, tiny), name)


# ---------------------------------------------------------------- bad seeds

BAD_SEEDS = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=2**32, max_value=2**80), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4), st.complex_numbers(),
    st.sampled_from([np.bool_(True), np.float64(1.0), b"1", [-1], (1.5,), "0"]),
)

SEED_CASES = [
    ("data.gaussian_noise", "seed", lambda s, t: data.gaussian_noise(IMAGES, seed=s)),
    ("data.masking_noise", "seed", lambda s, t: data.masking_noise(IMAGES, seed=s)),
    ("data.salt_and_pepper", "seed", lambda s, t: data.salt_and_pepper(IMAGES, seed=s)),
    ("data.dynamic_binarize", "seed", lambda s, t: data.dynamic_binarize(IMAGES, seed=s)),
    ("data.stratified_subset", "seed", lambda s, t: data.stratified_subset(LABELS, 10, seed=s)),
    ("data.offline_split", "random_state", lambda s, t: data.offline_split(LABELS, 10, random_state=s)),
    ("profile.seed", "default", lambda s, t: profile.seed(s)),
    ("autoencoders.pca_reconstruction", "seed", lambda s, t: autoencoders.pca_reconstruction(IMAGES, IMAGES, 1, seed=s)),
    ("classifiers.judge", "reseed", lambda s, t: classifiers.judge(reseed=s)),
    ("autoencoders.code_sensitivity", "seed",
     lambda s, t: autoencoders.code_sensitivity(t["encoder"], FLAT, seed=s)),
    ("autoencoders.corrupt", "seed", lambda s, t: autoencoders.corrupt(IMAGES, "masking", 0.1, seed=s)),
    ("autoencoders.NoisyBatches", "seed", lambda s, t: autoencoders.NoisyBatches(IMAGES, "masking", 0.1, seed=s)),
    ("autoencoders.tsne", "seed", lambda s, t: autoencoders.tsne(CODES, seed=s, perplexity=5)),
    ("vae.Sampling", "seed", lambda s, t: vae.Sampling(seed=s)),
    ("vae.VAE", "seed", lambda s, t: vae.VAE(t["vae"].encoder, t["vae"].decoder, seed=s)),
    ("VAE.sample_means", "seed", lambda s, t: t["vae"].sample_means(2, seed=s)),
    ("vae.log_importance_weights", "seed", lambda s, t: vae.log_importance_weights(t["vae"], BINARY, 2, seed=s)),
    ("gan.GAN", "seed", lambda s, t: gan.GAN(t["gan"].generator, t["gan"].discriminator, seed=s)),
    ("GAN.generate", "seed", lambda s, t: t["gan"].generate(2, seed=s)),
    ("rbm.RBM", "seed", lambda s, t: rbm.RBM(4, 2, seed=s)),
    ("rbm.gibbs_chains", "seed", lambda s, t: rbm.gibbs_chains((W, B, C), START, 2, seed=s)),
    ("rbm.dbn_classifier", "seed", lambda s, t: rbm.dbn_classifier((2,), n_visible=4, seed=s)),
    ("rbm.greedy_stack", "seed",
     lambda s, t: rbm.greedy_stack(BINARY[:, :4], (2,), epochs=1, optimizer_factory=_sgd, seed=s, verbose=0)),
    ("rbm.pseudo_likelihood", "seed",
     lambda s, t: rbm.pseudo_likelihood(np.ones((2, 4)), W, B, C, seed=s)),
    ("rbm.ais_log_partition", "seed",
     lambda s, t: rbm.ais_log_partition(W, B, C, base_visible_bias=B, n_betas=3, n_runs=2, seed=s)),
    ("plots.latent_scatter", "seed",
     lambda s, t: plots.latent_scatter(CODES[:, :2], LABELS, max_points=5, seed=s)),
]


@pytest.mark.parametrize("case", SEED_CASES, ids=[c[0] for c in SEED_CASES])
@PROPERTY
@given(seed=BAD_SEEDS)
def test_bad_seeds_are_refused(case, seed, tiny):
    _, name, call = case
    _refused(lambda: call(seed, tiny), name, at_start=True)


# ---------------------------------------------------------------- bad sizes (booleans, zero, negatives, floats)

BAD_SIZES = st.one_of(
    st.integers(min_value=-10**6, max_value=0), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3), st.sampled_from([np.bool_(True), np.float64(2.0), "3", [3], (2,), 2 + 0j]),
)

SIZE_CASES = [
    ("data.stratified_subset", "n", lambda b, t: data.stratified_subset(LABELS, b)),
    ("data.offline_split", "test_size", lambda b, t: data.offline_split(LABELS, b)),
    ("data.read_idx", "max_items", lambda b, t: data.read_idx("missing.gz", max_items=b)),
    ("data.load_dataset", "n_train", lambda b, t: data.load_dataset(n_train=b, verbose=False)),
    ("data.load_dataset n_test", "n_test", lambda b, t: data.load_dataset(n_test=b, verbose=False)),
    ("profile.epochs_for steps", "steps", lambda b, t: profile.epochs_for(b, n_train=10, batch_size=2)),
    ("profile.epochs_for n_train", "n_train", lambda b, t: profile.epochs_for(10, n_train=b, batch_size=2)),
    ("profile.epochs_for batch_size", "batch_size", lambda b, t: profile.epochs_for(10, n_train=10, batch_size=b)),
    ("autoencoders.dense_autoencoder", "input_dim", lambda b, t: autoencoders.dense_autoencoder(b)),
    ("autoencoders.dense_autoencoder hidden_units", "hidden_units",
     lambda b, t: autoencoders.dense_autoencoder(16, 2, hidden_units=(b,))),
    ("classifiers.cnn_classifier", "num_classes", lambda b, t: classifiers.cnn_classifier(num_classes=b)),
    ("classifiers.cnn_classifier dense_units", "dense_units", lambda b, t: classifiers.cnn_classifier(dense_units=b)),
    ("autoencoders.mean_image_reconstruction", "n", lambda b, t: autoencoders.mean_image_reconstruction(IMAGES, b)),
    ("autoencoders.pca_reconstruction", "n_components", lambda b, t: autoencoders.pca_reconstruction(IMAGES, IMAGES, b)),
    ("classifiers.train_classifier epochs", "epochs",
     lambda b, t: classifiers.train_classifier(t["classifier"], FLAT, np.arange(2), epochs=b, verbose=0)),
    ("classifiers.train_classifier batch_size", "batch_size",
     lambda b, t: classifiers.train_classifier(t["classifier"], FLAT, np.arange(2), epochs=1, batch_size=b, verbose=0)),
    ("autoencoders.fit_autoencoder batch_size", "batch_size",
     lambda b, t: autoencoders.fit_autoencoder(t["autoencoder"], FLAT, epochs=1, batch_size=b, cosine=False,
                                               verbose=0)),
    ("autoencoders.dense_autoencoder", "latent_dim", lambda b, t: autoencoders.dense_autoencoder(16, b)),
    ("autoencoders.fit_autoencoder", "epochs",
     lambda b, t: autoencoders.fit_autoencoder(t["autoencoder"], FLAT, epochs=b, verbose=0)),
    ("autoencoders.logistic_probe", "max_iter",
     lambda b, t: autoencoders.logistic_probe(CODES, LABELS, CODES, LABELS, max_iter=b)),
    ("autoencoders.encoder_jacobian_norm", "batch_size",
     lambda b, t: autoencoders.encoder_jacobian_norm(t["encoder"], FLAT, batch_size=b)),
    ("autoencoders.median_filter", "size", lambda b, t: autoencoders.median_filter(IMAGES, size=b)),
    ("autoencoders.NoisyBatches", "batch_size", lambda b, t: autoencoders.NoisyBatches(IMAGES, "masking", 0.1, batch_size=b)),
    ("autoencoders.conv_autoencoder", "kernel_size", lambda b, t: autoencoders.conv_autoencoder(kernel_size=b)),
    ("autoencoders.tied_dense_autoencoder", "latent_dim", lambda b, t: autoencoders.tied_dense_autoencoder(16, b)),
    ("autoencoders.greedy_layerwise_pretrain", "epochs", lambda b, t: autoencoders.greedy_layerwise_pretrain(IMAGES, (2,), epochs=b)),
    ("autoencoders.tsne", "max_iter", lambda b, t: autoencoders.tsne(CODES, perplexity=5, max_iter=b)),
    ("vae.latent_grid", "n", lambda b, t: vae.latent_grid(b)),
    ("vae.dense_encoder", "latent_dim", lambda b, t: vae.dense_encoder(b)),
    ("VAE.sample_means", "n", lambda b, t: t["vae"].sample_means(b)),
    ("vae.log_importance_weights", "k", lambda b, t: vae.log_importance_weights(t["vae"], BINARY, b)),
    ("vae.KLWarmup", "epochs", lambda b, t: vae.KLWarmup(b)),
    ("gan.dcgan_generator", "latent_dim", lambda b, t: gan.dcgan_generator(b)),
    ("GAN.generate", "n", lambda b, t: t["gan"].generate(b)),
    ("GAN.generate batch_size", "batch_size", lambda b, t: t["gan"].generate(2, batch_size=b)),
    ("gan.SampleGrid", "ncols", lambda b, t: gan.SampleGrid(np.zeros((2, 2)), ncols=b)),
    ("rbm.RBM n_hidden", "n_hidden", lambda b, t: rbm.RBM(4, b)),
    ("rbm.RBM k", "k", lambda b, t: rbm.RBM(4, 2, k=b)),
    ("rbm.gibbs_chains", "n_steps", lambda b, t: rbm.gibbs_chains((W, B, C), START, b)),
    ("rbm.filter_images", "n", lambda b, t: rbm.filter_images((W, B, C), b)),
    ("rbm.chain_figure", "side", lambda b, t: rbm.chain_figure(np.zeros((1, 2, 16)), side=b)),
    ("rbm.greedy_stack", "batch_size",
     lambda b, t: rbm.greedy_stack(BINARY[:, :4], (2,), epochs=1, optimizer_factory=_sgd, batch_size=b)),
    ("rbm.dbn_classifier", "n_classes", lambda b, t: rbm.dbn_classifier((2,), n_visible=4, n_classes=b)),
    ("rbm.ais_betas", "n_betas", lambda b, t: rbm.ais_betas(b)),
    ("rbm.ais_log_partition", "n_runs",
     lambda b, t: rbm.ais_log_partition(W, B, C, base_visible_bias=B, n_betas=3, n_runs=b)),
    ("metrics.knn_accuracy", "k", lambda b, t: metrics.knn_accuracy(CODES, LABELS, CODES, LABELS, k=b)),
    ("vae.importance_sampled_log_likelihood", "k",
     lambda b, t: vae.importance_sampled_log_likelihood(np.zeros((2, 4)), k=b)),
    ("metrics.per_image_ssim", "filter_size", lambda b, t: metrics.per_image_ssim(IMAGES, IMAGES, filter_size=b)),
    ("metrics.class_histogram", "num_classes", lambda b, t: metrics.class_histogram(np.arange(3), num_classes=b)),
    ("plots.image_grid", "ncols", lambda b, t: plots.image_grid(IMAGES, ncols=b)),
    ("autoencoders.reconstruction_figure", "n",
     lambda b, t: autoencoders.reconstruction_figure(IMAGES, CODES[:2, :2], IMAGES, code_shape=(1, 2), n=b)),
    ("autoencoders.filter_grid", "n", lambda b, t: autoencoders.filter_grid(np.ones((16, 4)), n=b)),
    ("autoencoders.image_rows", "n", lambda b, t: autoencoders.image_rows({"clean": IMAGES}, n=b)),
    ("plots.latent_scatter", "max_points", lambda b, t: plots.latent_scatter(CODES[:, :2], LABELS, max_points=b)),
    ("runner.run", "timeout", lambda b, t: runner.run(timeout=b)),
]


@pytest.mark.parametrize("case", SIZE_CASES, ids=[c[0] for c in SIZE_CASES])
@PROPERTY
@given(size=BAD_SIZES)
def test_bad_sizes_are_refused(case, size, tiny):
    _, name, call = case
    _refused(lambda: call(size, tiny), name, at_start=True)


def test_loop_counts_have_an_upper_bound(tiny):
    """Arguments that set a loop count or an allocation are bounded, with a message that says so."""
    for call, name in [
        (lambda: rbm.RBM(4, 2, k=10**6), "k"),
        (lambda: rbm.gibbs_chains((W, B, C), START, 10**9), "n_steps"),
        (lambda: rbm.ais_betas(10**9), "n_betas"),
        (lambda: rbm.ais_log_partition(W, B, C, base_visible_bias=B, n_betas=3, n_runs=10**7), "n_runs"),
        (lambda: vae.log_importance_weights(tiny["vae"], BINARY, 10**7), "k"),
        (lambda: vae.latent_grid(10**4), "n"),
        (lambda: tiny["vae"].sample_means(10**9), "n"),
        (lambda: tiny["gan"].generate(10**9), "n"),
        (lambda: autoencoders.mean_image_reconstruction(IMAGES, 10**12), "n"),
        (lambda: autoencoders.fit_autoencoder(tiny["autoencoder"], FLAT, epochs=10**9, verbose=0), "epochs"),
        (lambda: autoencoders.tsne(CODES, perplexity=5, max_iter=10**9), "max_iter"),
        (lambda: autoencoders.logistic_probe(CODES, LABELS, CODES, LABELS, max_iter=10**9), "max_iter"),
        (lambda: runner.run(timeout=10**9), "timeout"),
    ]:
        with pytest.raises(ValueError, match=rf"^{name} must be at most [0-9,]+"):
            call()


# ---------------------------------------------------------------- learning rates

BAD_RATES = st.one_of(
    st.floats(max_value=0.0, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf, -1, 0]),
    st.integers(max_value=0), st.booleans(), st.text(max_size=3), st.complex_numbers(),
    st.sampled_from([np.bool_(True), "1e-3", None]),
)

RATE_CASES = [
    ("autoencoders.fit_autoencoder cosine=False", lambda r, t: autoencoders.fit_autoencoder(
        t["autoencoder"], FLAT, epochs=1, learning_rate=r, cosine=False, verbose=0)),
    ("classifiers.train_classifier", lambda r, t: classifiers.train_classifier(t["classifier"], FLAT, np.arange(2), epochs=1,
                                                                     learning_rate=r, verbose=0)),
    ("autoencoders.fit_autoencoder", lambda r, t: autoencoders.fit_autoencoder(t["autoencoder"], FLAT, epochs=1,
                                                                               learning_rate=r, verbose=0)),
    ("autoencoders.build_contractive_autoencoder",
     lambda r, t: autoencoders.build_contractive_autoencoder(4, 2, learning_rate=r)),
    ("autoencoders.greedy_layerwise_pretrain",
     lambda r, t: autoencoders.greedy_layerwise_pretrain(IMAGES, (2,), epochs=1, learning_rate=r)),
    ("vae.build_vae", lambda r, t: vae.build_vae(2, hidden_units=(2,), learning_rate=r)),
    ("gan.build_gan", lambda r, t: gan.build_gan(2, g_filters=(2, 2), d_filters=(2, 2), learning_rate=r)),
]


@pytest.mark.parametrize("case", RATE_CASES, ids=[c[0] for c in RATE_CASES])
@PROPERTY
@given(rate=BAD_RATES)
def test_bad_learning_rates_are_refused(case, rate, tiny):
    _, call = case
    _refused(lambda: call(rate, tiny), "learning_rate", at_start=True)


def test_learning_rate_message_says_what_was_expected_and_what_came():
    with pytest.raises(ValueError, match=r"^learning_rate must be a positive finite number; got -1\.$"):
        _validate.learning_rate(-1)
    with pytest.raises(ValueError, match=r"^beta_1 must lie between 0 and 1"):
        gan.build_gan(2, g_filters=(2, 2), d_filters=(2, 2), beta_1=1.5)


# ---------------------------------------------------------------- unsafe names and paths

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
UNSAFE_NAMES = st.one_of(
    st.sampled_from(["../x", "../../x", "/abs", "/etc/passwd", "a/b", "a\\b", "", ".", "..", ".hidden",
                     "a\x00b", "\x00", "x" * 200, "a b", "a\nb", "ü", "C:\\x", "~/x"]),
    st.text(max_size=12).filter(lambda s: not SAFE_NAME.fullmatch(s)),
    st.integers(), st.none(), st.binary(max_size=4),
)

NAME_CASES = [
    ("paths.cache_path", "cache name", lambda n, t: paths.cache_path(n)),
    ("paths.load_cached", "cache name", lambda n, t: paths.load_cached(n)),
    ("paths.save_cached", "cache name", lambda n, t: paths.save_cached(t["classifier"], n)),
    ("paths.build_subdir", "build sub-folder name", lambda n, t: paths.build_subdir(n)),
    ("checks.report", "lab", lambda n, t: checks.report(n, {"m": 1.0}, write=True)),
    ("checks.bars_for", "lab", lambda n, t: checks.bars_for(n)),
]


@pytest.mark.parametrize("case", NAME_CASES, ids=[c[0] for c in NAME_CASES])
@PROPERTY
@given(name=UNSAFE_NAMES)
def test_unsafe_names_are_refused_and_nothing_is_written(case, name, tiny, build_dir):
    _, what, call = case
    before = sorted(p.relative_to(build_dir) for p in build_dir.rglob("*"))
    _refused(lambda: call(name, tiny), what)
    assert sorted(p.relative_to(build_dir) for p in build_dir.rglob("*")) == before


# ---------------------------------------------------------------- unbatched samples where a batch is expected

SINGLE_SHAPES = {"flat (784,)": (784,), "(28, 28)": (28, 28), "(28, 28, 1)": (28, 28, 1)}


@st.composite
def single_images(draw, shapes):
    shape = SINGLE_SHAPES[draw(st.sampled_from(shapes))]
    seed = draw(st.integers(0, 2**32 - 1))
    return (np.random.default_rng(seed).random(shape) < 0.5).astype(np.float32)  # binary, so valid for RBMs too


ALL = tuple(SINGLE_SHAPES)
NOT_2D = ("flat (784,)", "(28, 28, 1)")  # a (28, 28) array is also a valid batch of 28 flat vectors there

UNBATCHED_CASES = [
    ("metrics.per_image_psnr", ALL, "x", lambda x, t: metrics.per_image_psnr(x, x)),
    ("metrics.per_image_ssim", ALL, "x", lambda x, t: metrics.per_image_ssim(x, x, filter_size=3)),
    ("autoencoders.median_filter", ALL, "x", lambda x, t: autoencoders.median_filter(x)),
    ("plots.image_grid", ALL, "images", lambda x, t: plots.image_grid(x)),
    ("autoencoders.image_rows", ALL, "rows['clean']", lambda x, t: autoencoders.image_rows({"clean": x}, n=1)),
    ("autoencoders.reconstruction_figure", ALL, "originals",
     lambda x, t: autoencoders.reconstruction_figure(x, np.zeros((1, 2)), x, code_shape=(1, 2), n=1)),
    ("rbm.free_energy", ALL, "v", lambda x, t: rbm.free_energy(x, *t["rbm"].parameters())),
    ("VAE.fit", ALL, "x", lambda x, t: t["vae"].fit(x, epochs=1, verbose=0)),
    ("RBM.fit", ALL, "x", lambda x, t: t["rbm"].fit(x, epochs=1, verbose=0)),
    ("vae.log_importance_weights", ALL, "x", lambda x, t: vae.log_importance_weights(t["vae"], x, 2)),
    ("autoencoders.encoder_jacobian_norm", ALL, "x", lambda x, t: autoencoders.encoder_jacobian_norm(t["encoder"], x)),
    ("rbm.gibbs_chains", ALL, "start", lambda x, t: rbm.gibbs_chains(t["rbm"], x, 2)),
    ("rbm.stack_features", ALL, "x", lambda x, t: rbm.stack_features([t["rbm"]], x)),
    ("classifiers.train_classifier", ALL, "x_train",
     lambda x, t: classifiers.train_classifier(t["classifier"], x, np.arange(2), epochs=1, verbose=0)),
    ("metrics.bce", NOT_2D, "x", lambda x, t: metrics.bce(x, x)),
    ("metrics.mse", NOT_2D, "x", lambda x, t: metrics.mse(x, x)),
    ("autoencoders.mean_image_reconstruction", NOT_2D, "x_train", lambda x, t: autoencoders.mean_image_reconstruction(x, 2)),
    ("autoencoders.pca_reconstruction", NOT_2D, "x_train", lambda x, t: autoencoders.pca_reconstruction(x, x, 1)),
]


@pytest.mark.parametrize("case", UNBATCHED_CASES, ids=[c[0] for c in UNBATCHED_CASES])
@PROPERTY
@given(draw=st.data())
def test_a_single_unbatched_image_is_refused(case, draw, tiny):
    _, shapes, name, call = case
    image = draw.draw(single_images(shapes), label="single image")
    _refused(lambda: call(image, tiny), name)


def test_single_image_errors_suggest_a_batch_of_one():
    one = IMAGES[0].reshape(4, 4, 1)
    with pytest.raises(ValueError, match=r"single unbatched image\? Use x\[None\]"):
        metrics.per_image_psnr(one, one)
    with pytest.raises(ValueError, match=r"x must be a batch \(n, \.\.\.\); got shape \(784,\): a single example"):
        metrics.bce(FLAT[0], FLAT[0])
    # a batch of one is the way to score a single image
    assert metrics.per_image_bce(FLAT[:1], FLAT[:1])[0] == pytest.approx(metrics.per_image_bce(FLAT, FLAT)[0])


# ---------------------------------------------------------------- data files: .npz and IDX

def _npz(path, **override):
    xtr, ytr = synthetic_mnist(12)
    xte, yte = synthetic_mnist(6, seed=1)
    arrays = {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte, **override}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


@pytest.mark.parametrize("override, pattern", [
    ({"extra": np.zeros(3)}, r"must hold exactly the arrays"),                    # wrong keys
    ({"y_test": None}, r"must hold exactly the arrays"),
    ({"x_test": np.zeros((6, 784), np.uint8)}, r"x_test must have shape \(n, 28, 28\)"),   # wrong shape
    ({"x_train": np.zeros((12, 28, 28), np.int64)}, r"x_train must be uint8"),     # wrong dtype
    ({"x_train": synthetic_mnist(12)[0] / np.float32(255)}, r"already scaled"),  # already scaled images
    ({"y_train": np.full(12, 10, np.uint8)}, r"y_train must hold labels 0-9"),     # label range
    ({"y_train": np.arange(11) % 10}, r"12 train images but 11 labels"),           # counts
    ({"y_test": np.zeros(6, np.float32)}, r"y_test must be one-dimensional integer labels"),
])
def test_npz_with_wrong_contents_is_refused(tmp_path, monkeypatch, override, pattern):
    _npz(tmp_path / "mnist.npz", **override)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(ValueError, match=pattern):
        data.load_mnist(verbose=False)


def test_npz_zip_bomb_is_refused_from_its_headers(tmp_path, monkeypatch):
    """An .npz whose x_train header promises 10**9 images is refused before anything is decompressed."""
    path = _npz(tmp_path / "mnist.npz")
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    fake = np.lib.format.header_data_from_array_1_0(np.zeros((1, 28, 28), np.uint8))
    fake["shape"] = (10**9, 28, 28)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, fake)
    header = buf.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in members.items():
            z.writestr(name, header + bytes(1000) if name == "x_train.npy" else blob)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"x_train is declared as \(1000000000, 28, 28\).*not read"):
        data.load_mnist(verbose=False)
    with pytest.raises(ValueError, match=r"x_train is declared"):
        data.find_mnist().describe()  # the sizes come from the headers too
    assert time.perf_counter() - start < 5


def test_idx_gzip_bomb_is_refused_quickly(tmp_path):
    """A 1 GB stream (a gzip file of concatenated members, ~1 MB on disk) behind a header for 5 labels."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9)                     # 1 MiB of zeros, ~1 KB
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8))) + member * 1024)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"promises \(5,\) = 5 bytes of data, but the file holds more"):
        data.read_idx(path)
    assert time.perf_counter() - start < 2.0


def test_idx_images_header_checked_before_decompressing(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((1, 28, 28), np.uint8), dims=(10**8, 28, 28))))
    with pytest.raises(ValueError, match=r"promises 100,000,000 entries"):
        data.read_idx(path)
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((1, 28, 28), np.uint8), dims=(1, 64, 64))))
    with pytest.raises(ValueError, match=r"expected 28x28 images"):
        data.read_idx(path)


@pytest.mark.parametrize("max_items, exc", [(-1, ValueError), (0, ValueError), (True, TypeError), (2.5, TypeError)])
def test_read_idx_max_items_must_be_a_positive_int(tmp_path, max_items, exc):
    """``max_items=-1`` used to reach ``read(-1)``: the whole (possibly huge) stream."""
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8))))
    with pytest.raises(exc, match=r"^max_items must be"):
        data.read_idx(path, max_items=max_items)
    assert data.read_idx(path, max_items=3).tolist() == [0, 1, 2]


# ---------------------------------------------------------------- lab numbers, results names, the build folder

def test_lab_number_string_is_one_lab_not_its_characters(tmp_path):
    assert runner.lab_numbers("01") == runner.lab_numbers(["01"]) == runner.lab_numbers(1) == ["01"]
    assert runner.lab_numbers("10") == ["10"]  # not labs 1 and 0
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for name in ("01_a.ipynb", "10_b.ipynb", "11_c.ipynb"):
        (nbs / name).write_text("{}")
    assert [p.name for p in runner.find_notebooks(nbs, "10")] == ["10_b.ipynb"]
    assert [p.name for p in runner.find_notebooks(nbs, ["01", "11"])] == ["01_a.ipynb", "11_c.ipynb"]
    assert checks.bars_for("01") == checks.bars_for("01", profile.name())
    with pytest.raises(TypeError, match=r"^lab must be a two-digit string like '01'; got \['01'\]"):
        checks.bars_for(["01"])
    with pytest.raises(ValueError, match=r"^lab must be a two-digit string like '01'; got '1'"):
        checks.bars_for("1")
    with pytest.raises(ValueError, match=r"^labs: each lab must be a number from 1 to 99"):
        runner.lab_numbers("²")  # a Unicode digit that int() cannot read


def test_results_name_cannot_leave_the_build_folder(build_dir, tmp_path):
    with pytest.raises(ValueError, match=r"^lab must be a two-digit string .*got '\.\./\.\./x'"):
        checks.report("../../x", {"m": 1.0})
    with pytest.raises(ValueError, match=r"^cache name must be a plain file name"):
        paths.cache_path("../../x")
    with pytest.raises(ValueError, match=r"^path must name a lab notebook NN_name\.ipynb"):
        runner.run_notebook(tmp_path / "..x.ipynb", tmp_path)
    assert not (build_dir.parent / "x.json").exists() and not list((build_dir / "results").glob("*"))
    assert checks.report("01", {"m": 1.0})["lab"] == "01"  # a valid name still writes, inside
    assert (build_dir / "results" / "01.json").is_file()


def test_build_dir_errors_name_the_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv(paths.BUILD_DIR_ENV, str(blocker))
    with pytest.raises(ValueError, match=r"LABUTILS_BUILD_DIR="):
        paths.build_dir()
    with pytest.raises(ValueError, match=r"LABUTILS_BUILD_DIR"):
        checks.results_dir()
    monkeypatch.setenv(paths.BUILD_DIR_ENV, str(tmp_path / "build"))
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "results").write_text("a file where the folder goes")
    with pytest.raises(ValueError, match=r"LABUTILS_BUILD_DIR"):
        checks.results_dir()


def test_report_and_runner_refuse_malformed_records():
    with pytest.raises(TypeError, match=r"^metrics must be a dict"):
        checks.report("01", [("m", 1.0)], write=False)
    with pytest.raises(TypeError, match=r"^bars\['m'\] must be a Bar"):
        checks.report("01", {"m": 1.0}, {"m": 0.5}, write=False)
    with pytest.raises(TypeError, match=r"^records\[0\] must be a dict"):
        runner.results_markdown([1])
    from labutils import grading

    with pytest.raises(TypeError, match=r"^args must be a non-empty list of strings"):
        grading.run_nbgrader("generate_assignment", ".")  # a string would be split into characters


def test_valid_calls_still_work(tiny):
    """The checks do not refuse the inputs the labs use."""
    assert data.gaussian_noise(IMAGES, seed=[1, 2, 3]).shape == IMAGES.shape  # NoisyBatches' seed lists
    assert data.stratified_subset(LABELS, 10, seed=2**32 - 1).shape == (10,)
    assert autoencoders.mean_image_reconstruction(IMAGES.reshape(2, 4, 4, 1), 3).shape == (3, 16)
    assert _validate.learning_rate(np.float32(1e-3)) == pytest.approx(1e-3)
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, 10)
    assert _validate.learning_rate(schedule, allow_schedule=True) is schedule
    assert tiny["gan"].generate(2, seed=7).shape == (2, 28, 28, 1)
    assert tiny["vae"].sample_means(2, seed=0).shape == (2, 784)
    assert metrics.per_image_psnr(IMAGES, np.clip(IMAGES + 0.1, 0, 1)).shape == (2,)
    assert rbm.gibbs_chains((W, B, C), START, 4, record_every=4, seed=1).shape == (1, 2, 4)
    assert paths.build_subdir("models", "mnist", "offline-8k", "quick").is_dir()
