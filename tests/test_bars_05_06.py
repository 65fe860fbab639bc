"""Labs 05 and 06: the bars are real.

A model that does nothing (the identity, which returns the noisy input), an untrained network and a constant code
miss every bar of both profiles; networks trained with the quick profile's budget clear the quick bars. The
settings mirror the notebooks' quick profile.
"""

import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import checks, data, metrics

keras = pytest.importorskip("keras")

from labutils import autoencoders  # noqa: E402

LAB05_QUICK = dict(n_train=3000, n_val=500, n_test=1000, batch_size=64, learning_rate=2e-3, epochs=4,
                   filters=(32, 64), noise={"gaussian": 0.5, "masking": 0.5}, val_seed=1000, test_seed=2000)
LAB06_QUICK = dict(n_train=2000, batch_size=32, learning_rate=1e-3, epochs=6, conv_filters=(16, 32))


def _load(mnist_dir, **kwargs):
    with data_dir(mnist_dir):
        return data.load_mnist(scale=True, verbose=False, **kwargs)


def _all_bars(lab):
    return [(prof, name, bar) for prof in ("full", "quick") for name, bar in checks.bars_for(lab, prof).items()]


def test_both_labs_have_bars_in_both_profiles():
    for lab in ("05", "06"):
        for prof in ("full", "quick"):
            bars = checks.bars_for(lab, prof)
            assert bars, f"lab {lab} has no {prof} bars"
            assert all(b.why for b in bars.values()), "every bar says where it comes from"


# ------------------------------------------------------------------ lab 05

def _lab05_metrics(outputs, x_test, noisy, median_out):
    """The notebook's bar metrics for {kind: denoised images}."""
    values = {}
    for kind, out in outputs.items():
        p, s = metrics.psnr(x_test, out), metrics.ssim(x_test, out)
        values[f"{kind}: DAE PSNR (dB)"] = p
        values[f"{kind}: DAE SSIM"] = s
        values[f"{kind}: DAE gain over median (dB)"] = p - metrics.psnr(x_test, median_out[kind])
    return values


@pytest.fixture(scope="module")
def lab05_data(mnist_dir):
    q = LAB05_QUICK
    (x_train, _), (x_test, _) = _load(mnist_dir, channel_axis=True, n_train=q["n_train"], n_test=q["n_test"])
    x_train, x_val = x_train[:-q["n_val"]], x_train[-q["n_val"]:]
    noisy = {k: autoencoders.corrupt(x_test, k, v, seed=q["test_seed"]) for k, v in q["noise"].items()}
    median_out = {k: autoencoders.median_filter(n, 3) for k, n in noisy.items()}
    return x_train, x_val, x_test, noisy, median_out


def test_lab05_doing_nothing_or_an_untrained_dae_misses_every_bar(lab05_data):
    _, _, x_test, noisy, median_out = lab05_data
    keras.utils.set_random_seed(0)
    untrained, _, _ = autoencoders.conv_autoencoder(filters=LAB05_QUICK["filters"])
    candidates = {"identity": dict(noisy), "untrained": {k: untrained.predict(n, verbose=0) for k, n in noisy.items()},
                  "median only": dict(median_out)}
    for label, outputs in candidates.items():
        values = _lab05_metrics(outputs, x_test, noisy, median_out)
        for prof, name, bar in _all_bars("05"):
            assert name in values, f"test does not compute {name}"
            assert_misses("05", name, values[name], label, profiles=(prof,))


def test_lab05_quick_budget_clears_the_quick_bars(lab05_data):
    q = LAB05_QUICK
    x_train, x_val, x_test, noisy, median_out = lab05_data
    outputs = {}
    for kind, level in q["noise"].items():
        keras.utils.set_random_seed(0)
        dae, _, _ = autoencoders.conv_autoencoder(filters=q["filters"])
        dae.compile(optimizer=keras.optimizers.Adam(q["learning_rate"]), loss="binary_crossentropy")
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        dae.fit(autoencoders.NoisyBatches(x_train, kind, level, batch_size=q["batch_size"], seed=0), epochs=q["epochs"],
                validation_data=(autoencoders.corrupt(x_val, kind, level, seed=q["val_seed"]), x_val), callbacks=[stop],
                verbose=0)
        outputs[kind] = dae.predict(noisy[kind], verbose=0)
    values = _lab05_metrics(outputs, x_test, noisy, median_out)
    for name, bar in checks.bars_for("05", "quick").items():
        assert bar.passes(values[name]), f"quick budget misses {name} {bar}: {values[name]:.4g}"


# ------------------------------------------------------------------ lab 06

@pytest.fixture(scope="module")
def lab06_data(mnist_dir):
    (x_train, y_train), (x_test, y_test) = _load(mnist_dir, flatten=True, n_train=LAB06_QUICK["n_train"])
    return x_train, y_train, x_test, y_test


def _lab06_values(prefix, autoencoder, encoder, x_train, y_train, x_test, y_test, shape=(-1, 784)):
    x_hat = autoencoder.predict(x_test.reshape(shape), verbose=0).reshape(len(x_test), -1)
    c_tr = encoder.predict(x_train.reshape(shape), verbose=0).reshape(len(x_train), -1)
    c_te = encoder.predict(x_test.reshape(shape), verbose=0).reshape(len(x_test), -1)
    return {f"{prefix}: test BCE": metrics.bce(x_test, x_hat),
            f"{prefix}: 5-NN accuracy": metrics.knn_accuracy(c_tr, y_train, c_te, y_test, k=5)}


def test_lab06_untrained_or_collapsed_models_miss_the_bars(lab06_data):
    x_train, y_train, x_test, y_test = lab06_data
    keras.utils.set_random_seed(0)
    dense, dense_enc, _ = autoencoders.dense_autoencoder(784, 32, hidden_units=(128, 64))
    tied, tied_enc = autoencoders.tied_dense_autoencoder(784, 32, hidden_units=(128, 64))
    conv, conv_enc, _ = autoencoders.conv_autoencoder(filters=LAB06_QUICK["conv_filters"], latent_dim=32)
    values = {}
    values.update(_lab06_values("end to end", dense, dense_enc, x_train, y_train, x_test, y_test))
    values.update(_lab06_values("tied", tied, tied_enc, x_train, y_train, x_test, y_test))
    values.update(_lab06_values("conv", conv, conv_enc, x_train, y_train, x_test, y_test, shape=(-1, 28, 28, 1)))
    # a collapsed code (every image gets the same code) and the mean-image reconstruction
    mean_bce = metrics.bce(x_test, np.tile(x_train.mean(0), (len(x_test), 1)))
    collapsed = metrics.knn_accuracy(np.zeros((len(x_train), 32)), y_train, np.zeros((len(x_test), 32)), y_test, k=5)
    checked = 0
    for prof, name, bar in _all_bars("06"):
        model, _, kind = name.partition(": ")
        if kind not in ("test BCE", "5-NN accuracy"):
            continue
        family = model if model in ("tied", "conv") else "end to end"  # greedy: the same dense network
        baseline = ("mean image", mean_bce) if kind == "test BCE" else ("collapsed code", collapsed)
        for label, value in ((f"untrained {family}", values[f"{family}: {kind}"]), baseline):
            assert_misses("06", name, value, label, profiles=(prof,))
            checked += 1
    assert checked >= 8
    # no advantage is no advantage; a reload that changed the predictions is a failure
    for prof, name, bar in _all_bars("06"):
        if name == "2006: greedy advantage (test BCE)":
            assert_misses("06", name, 0.0, "no advantage", profiles=(prof,))
        if name == "tied model reloaded identically":
            assert_misses("06", name, 0.0, "a reload that changed the predictions", profiles=(prof,))


def test_lab06_quick_budget_clears_the_quick_bars(lab06_data):
    q = LAB06_QUICK
    x_train, y_train, x_test, y_test = lab06_data
    values = {}
    keras.utils.set_random_seed(0)
    dense, dense_enc, _ = autoencoders.dense_autoencoder(784, 32, hidden_units=(128, 64))
    dense.compile(optimizer=keras.optimizers.Adam(q["learning_rate"]), loss="binary_crossentropy")
    dense.fit(x_train, x_train, epochs=q["epochs"], batch_size=q["batch_size"], verbose=0)
    values.update(_lab06_values("end to end", dense, dense_enc, x_train, y_train, x_test, y_test))
    keras.utils.set_random_seed(0)
    tied, tied_enc = autoencoders.tied_dense_autoencoder(784, 32, hidden_units=(128, 64))
    tied.compile(optimizer=keras.optimizers.Adam(q["learning_rate"]), loss="binary_crossentropy")
    tied.fit(x_train, x_train, epochs=q["epochs"], batch_size=q["batch_size"], verbose=0)
    values.update(_lab06_values("tied", tied, tied_enc, x_train, y_train, x_test, y_test))
    checked = 0
    for name, bar in checks.bars_for("06", "quick").items():
        if name in values:
            checked += 1
            assert bar.passes(values[name]), f"quick budget misses {name} {bar}: {values[name]:.4g}"
    assert checked >= 3, "the quick bars on the dense models were checked"


# ------------------------------------------------------------------ Fashion-MNIST (quick bars)

def _load_fashion(fashion_dir, **kwargs):
    with data_dir(fashion_dir):
        return data.load_dataset("fashion_mnist", scale=True, verbose=False, **kwargs)


def _fashion_bars(lab):
    return checks.bars_for(lab, "quick", dataset="fashion_mnist")


def test_both_labs_have_fashion_quick_bars_with_reasons():
    for lab, names in (("05", ("gaussian: DAE PSNR (dB)", "masking: DAE gain over median (dB)")),
                       ("06", ("end to end: test BCE", "end to end: 5-NN accuracy"))):
        bars = _fashion_bars(lab)
        assert set(names) <= set(bars), f"lab {lab}: Fashion-MNIST quick bars missing"
        assert set(checks.bars_for(lab, "quick")) <= set(bars), "at least the metrics of MNIST's quick bars"
        assert all(b.why and "provisional" not in b.why for b in bars.values()), "every bar says where it comes from"


def test_lab05_fashion_doing_nothing_an_untrained_dae_or_the_median_filter_misses_every_bar(fashion_dir):
    q = LAB05_QUICK
    _, (x_test, _) = _load_fashion(fashion_dir, channel_axis=True, n_train=q["n_train"], n_test=q["n_test"])
    noisy = {k: autoencoders.corrupt(x_test, k, v, seed=q["test_seed"]) for k, v in q["noise"].items()}
    median_out = {k: autoencoders.median_filter(n, 3) for k, n in noisy.items()}
    keras.utils.set_random_seed(0)
    untrained, _, _ = autoencoders.conv_autoencoder(filters=q["filters"])
    candidates = {"identity": dict(noisy), "untrained": {k: untrained.predict(n, verbose=0) for k, n in noisy.items()},
                  "median only": dict(median_out)}
    for label, outputs in candidates.items():
        values = _lab05_metrics(outputs, x_test, noisy, median_out)
        for name, bar in _fashion_bars("05").items():
            assert name in values, f"test does not compute {name}"
            assert_misses("05", name, values[name], label, dataset="fashion_mnist", profiles=("quick",))


def test_lab06_fashion_untrained_or_collapsed_models_miss_the_bars(fashion_dir):
    (x_train, y_train), (x_test, y_test) = _load_fashion(fashion_dir, flatten=True, n_train=LAB06_QUICK["n_train"],
                                                         n_test=2000)
    keras.utils.set_random_seed(0)
    dense, dense_enc, _ = autoencoders.dense_autoencoder(784, 32, hidden_units=(128, 64))
    tied, tied_enc = autoencoders.tied_dense_autoencoder(784, 32, hidden_units=(128, 64))
    conv, conv_enc, _ = autoencoders.conv_autoencoder(filters=LAB06_QUICK["conv_filters"], latent_dim=32)
    values = {}
    values.update(_lab06_values("end to end", dense, dense_enc, x_train, y_train, x_test, y_test))
    values.update(_lab06_values("tied", tied, tied_enc, x_train, y_train, x_test, y_test))
    values.update(_lab06_values("conv", conv, conv_enc, x_train, y_train, x_test, y_test, shape=(-1, 28, 28, 1)))
    mean_bce = metrics.bce(x_test, np.tile(x_train.mean(0), (len(x_test), 1)))
    collapsed = metrics.knn_accuracy(np.zeros((len(x_train), 32)), y_train, np.zeros((len(x_test), 32)), y_test, k=5)
    checked = 0
    for name, bar in _fashion_bars("06").items():
        model, _, kind = name.partition(": ")
        if name == "tied model reloaded identically":
            assert_misses("06", name, 0.0, "a reload that changed the predictions", dataset="fashion_mnist",
                          profiles=("quick",))
            continue
        if name == "2006: greedy advantage (test BCE)":
            assert_misses("06", name, 0.0, "no advantage", dataset="fashion_mnist", profiles=("quick",))
            continue
        if kind not in ("test BCE", "5-NN accuracy"):
            continue
        family = model if model in ("tied", "conv") else "end to end"  # greedy: the same dense network
        baseline = ("mean image", mean_bce) if kind == "test BCE" else ("collapsed code", collapsed)
        for label, value in ((f"untrained {family}", values[f"{family}: {kind}"]), baseline):
            assert_misses("06", name, value, label, dataset="fashion_mnist", profiles=("quick",))
            checked += 1
    assert checked >= 6
