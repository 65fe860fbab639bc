"""Lab 09's bars are real: untrained RBMs miss the AIS log-likelihood bar in both profiles, and an RBM
trained with the quick profile's budget clears the quick bar, on MNIST and on Fashion-MNIST; on Fashion-MNIST
scikit-learn's BernoulliRBM with the lab's quick budget misses the quick bar too, and with the full budget the
full profile's pseudo-likelihood bar."""

import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import checks, data, metrics, profile, rbm

METRIC = "AIS test log-likelihood (nats)"
# the quick profile of notebooks/09_boltzmann_machines.ipynb (budgets in gradient steps)
QUICK = dict(n_train=2000, n_test=2000, n_eval=2000, n_hidden=200, train_steps=160, batch_size=100,
             learning_rate=0.05, momentum=0.5, weight_decay=1e-4, ais_betas=1000, ais_runs=20,
             sklearn_steps=400, sklearn_batch_size=10)
TEST_BINARIZATION_SEED = 2008


def _quick_data(name, directory):
    """The quick profile's data: 2,000 grey training images and the binarized test images."""
    with data_dir(directory):
        (x_train, _), (x_test, _) = data.load_dataset(name, scale=True, flatten=True, n_train=QUICK["n_train"],
                                                      n_test=QUICK["n_test"], verbose=False)
    return x_train, data.dynamic_binarize(x_test[:QUICK["n_eval"]], seed=TEST_BINARIZATION_SEED)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return _quick_data("mnist", mnist_dir)


@pytest.fixture(scope="module")
def fashion(fashion_dir):
    return _quick_data("fashion_mnist", fashion_dir)


def _test_log_likelihood(params, x_train, x_test_bin):
    base = metrics.base_rate_visible_bias(x_train)
    ais = rbm.ais_log_partition(*params, base_visible_bias=base, n_betas=QUICK["ais_betas"],
                                n_runs=QUICK["ais_runs"], seed=0)
    return float(rbm.log_likelihood(x_test_bin, *params, ais).mean())


def _misses(value, dataset, profiles, label="this baseline"):
    assert_misses("09", METRIC, value, label, dataset=dataset, profiles=profiles)


def _untrained_log_likelihoods(x_train, x_test_bin):
    n_hidden = QUICK["n_hidden"]
    # zero weights, visible biases at the pixel log-odds: the base-rate model that AIS starts from
    base_rate = (np.zeros((784, n_hidden)), metrics.base_rate_visible_bias(x_train), np.zeros(n_hidden))
    base_ll = _test_log_likelihood(base_rate, x_train, x_test_bin)
    # the Keras RBM's initialisation before set_visible_bias: N(0, 0.01^2) weights, zero biases
    rng = np.random.default_rng(0)
    random_init = (rng.normal(0, 0.01, (784, n_hidden)), np.zeros(784), np.zeros(n_hidden))
    random_ll = _test_log_likelihood(random_init, x_train, x_test_bin)
    assert random_ll == pytest.approx(-784 * np.log(2), abs=2.0)
    return base_ll, random_ll


def test_untrained_rbms_miss_the_likelihood_bars(mnist):
    base_ll, random_ll = _untrained_log_likelihoods(*mnist)
    assert -260 < base_ll < -180, base_ll
    _misses(base_ll, "mnist", ("full", "quick"))
    _misses(random_ll, "mnist", ("full", "quick"))


def test_untrained_rbms_miss_the_fashion_quick_bar(fashion):
    base_ll, random_ll = _untrained_log_likelihoods(*fashion)
    assert -420 < base_ll < -350, base_ll       # the lab measures -384.0
    _misses(base_ll, "fashion_mnist", ("quick",))
    _misses(random_ll, "fashion_mnist", ("quick",))


def test_sklearn_rbm_misses_the_fashion_quick_bar(fashion):
    """scikit-learn's BernoulliRBM with the lab's quick budget (seed 0) is the baseline the bar must beat."""
    from sklearn.neural_network import BernoulliRBM
    from threadpoolctl import threadpool_limits

    x_train, x_test_bin = fashion
    x_train_bin = data.dynamic_binarize(x_train, seed=0)
    epochs = profile.epochs_for(QUICK["sklearn_steps"], n_train=len(x_train), batch_size=QUICK["sklearn_batch_size"])
    sk_rbm = BernoulliRBM(n_components=QUICK["n_hidden"], batch_size=QUICK["sklearn_batch_size"], n_iter=epochs,
                          random_state=0)
    with threadpool_limits(limits=1, user_api="blas"):
        sk_rbm.fit(x_train_bin)
    params = rbm.parameters(sk_rbm)
    # it learned something: its pseudo-likelihood (no partition function, so no AIS error) beats independent
    # pixels with the base rates, -384 nats on Fashion-MNIST's test images (an untrained RBM: 784 log 0.5 = -543)
    base_ll = float((x_test_bin @ metrics.base_rate_visible_bias(x_train)
                     - np.logaddexp(0, metrics.base_rate_visible_bias(x_train)).sum()).mean())
    sk_pl = float(rbm.pseudo_likelihood(x_test_bin, *params, seed=0).mean())
    assert sk_pl > base_ll, (sk_pl, base_ll)
    print(f"sklearn RBM: test pseudo-likelihood {sk_pl:.1f} nats, base rates {base_ll:.1f}")
    # its AIS log-likelihood (optimistic where AIS's band is open, as it is for these RBMs) still misses the bar
    sk_ll = _test_log_likelihood(params, x_train, x_test_bin)
    _misses(sk_ll, "fashion_mnist", ("quick",))


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_quick_budget_rbm_clears_the_quick_bar(dataset, request):
    import keras

    x_train, x_test_bin = request.getfixturevalue("mnist" if dataset == "mnist" else "fashion")
    keras.utils.set_random_seed(0)
    model = rbm.RBM(784, QUICK["n_hidden"], k=1, persistent=True, n_chains=QUICK["batch_size"],
                    weight_decay=QUICK["weight_decay"], dynamic_binarization=True, seed=0)
    model.set_visible_bias(x_train)
    epochs = profile.epochs_for(QUICK["train_steps"], n_train=len(x_train), batch_size=QUICK["batch_size"])
    steps = epochs * int(np.ceil(len(x_train) / QUICK["batch_size"]))
    schedule = keras.optimizers.schedules.PolynomialDecay(QUICK["learning_rate"], steps, 0.0)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=QUICK["momentum"]))
    model.fit(x_train, epochs=epochs, batch_size=QUICK["batch_size"], verbose=0)
    trained_ll = _test_log_likelihood(model.parameters(), x_train, x_test_bin)
    bar = checks.bars_for("09", "quick", dataset)[METRIC]
    assert bar.passes(trained_ll), trained_ll


def test_untrained_classifier_misses_the_dbn_bar(mnist_dir):
    """The full profile's bar on the DBN-initialised MLP with 100 labels: an untrained MLP scores near chance."""
    import keras

    metric = "DBN-initialised MLP (few labels)"
    with data_dir(mnist_dir):
        _, (x_test, y_test) = data.load_dataset("mnist", scale=True, flatten=True, verbose=False)
    keras.utils.set_random_seed(0)
    untrained = rbm.dbn_classifier((500, 500), seed=0)
    accuracy = float(np.mean(untrained.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    assert accuracy < 0.3, accuracy
    assert_misses("09", metric, accuracy, "an untrained DBN-initialised MLP", profiles=("full",))


PL_METRIC = "test pseudo-likelihood (nats)"
# the full profile of notebooks/09_boltzmann_machines.ipynb
FULL = dict(n_hidden=500, n_eval=2000, sklearn_steps=8000, sklearn_batch_size=10)


@pytest.fixture(scope="module")
def fashion_full(fashion_dir):
    """All 60,000 grey Fashion-MNIST training images and the lab's 2,000 binarized test images."""
    with data_dir(fashion_dir):
        (x_train, _), (x_test, _) = data.load_dataset("fashion_mnist", scale=True, flatten=True, verbose=False)
    return x_train, data.dynamic_binarize(x_test[:FULL["n_eval"]], seed=TEST_BINARIZATION_SEED)


def test_baselines_miss_the_fashion_full_pseudo_likelihood_bar(fashion_full):
    """The full profile's Fashion-MNIST bar is on the pseudo-likelihood (no partition function, so no AIS band):
    independent pixels at their base rates, an untrained RBM and scikit-learn's BernoulliRBM with the lab's full
    budget (seed 0, one fixed binarization of the 60,000 training images) all miss it."""
    from sklearn.neural_network import BernoulliRBM
    from threadpoolctl import threadpool_limits

    x_train, x_test_bin = fashion_full
    n_hidden = FULL["n_hidden"]
    base = metrics.base_rate_visible_bias(x_train)
    base_pl = float(rbm.pseudo_likelihood(x_test_bin, np.zeros((784, n_hidden)), base,
                                                  np.zeros(n_hidden), seed=0).mean())
    exact_base_ll = float((x_test_bin @ base - np.logaddexp(0, base).sum()).mean())
    assert base_pl == pytest.approx(exact_base_ll, abs=15.0)  # independent pixels: PL estimates the exact LL
    rng = np.random.default_rng(0)
    random_pl = float(rbm.pseudo_likelihood(x_test_bin, rng.normal(0, 0.01, (784, n_hidden)),
                                                    np.zeros(784), np.zeros(n_hidden), seed=0).mean())
    assert random_pl == pytest.approx(-784 * np.log(2), abs=5.0)
    x_train_bin = data.dynamic_binarize(x_train, seed=0)
    epochs = profile.epochs_for(FULL["sklearn_steps"], n_train=len(x_train), batch_size=FULL["sklearn_batch_size"])
    sk_rbm = BernoulliRBM(n_components=n_hidden, batch_size=FULL["sklearn_batch_size"], n_iter=epochs,
                          random_state=0)
    with threadpool_limits(limits=1, user_api="blas"):
        sk_rbm.fit(x_train_bin)
    sk_pl = float(rbm.pseudo_likelihood(x_test_bin, *rbm.parameters(sk_rbm), seed=0).mean())
    assert sk_pl > base_pl, (sk_pl, base_pl)  # it learned something
    print(f"pseudo-likelihood: base rates {base_pl:.1f}, untrained {random_pl:.1f}, sklearn {sk_pl:.1f} nats")
    for value, label in ((base_pl, "independent pixels at their base rates"), (random_pl, "an untrained RBM"),
                         (sk_pl, "scikit-learn's BernoulliRBM, full budget")):
        assert_misses("09", PL_METRIC, value, label, dataset="fashion_mnist", profiles=("full",))
    # the likelihood bar: the base-rate model's log-likelihood is exact (its log Z is a sum over pixels), and an
    # RBM with N(0, 0.01^2) weights and zero biases is within a nat of 784 log 0.5
    assert_misses("09", METRIC, exact_base_ll, "independent pixels at their base rates (exact)",
                  dataset="fashion_mnist", profiles=("full",))
    assert_misses("09", METRIC, -784 * np.log(2) + 1.0, "an untrained RBM", dataset="fashion_mnist",
                  profiles=("full",))
