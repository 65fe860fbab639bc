"""Lab 08's bars are real: generators that output noise, a single digit, or come untrained miss them in both
profiles, a cGAN that ignores its label misses the recognition bar, and real images (a generator as good as
the data) clear the quality bars. The measurement follows the notebook: FD / floor with 1,000 images against
test half A, the floor with test half B; a small judge trained in seconds stands in for lab 02's CNN."""

import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import checks, gan, metrics

FD = "DCGAN FD / floor"
KL = "DCGAN KL to uniform (nats)"
CGAN_FD = "cGAN FD / floor"
RECOGNISED = "cGAN recognised as requested"


def test_lab08_has_bars_with_reasons_in_both_profiles():
    for prof in ("full", "quick"):
        bars = checks.bars_for("08", prof)
        assert {FD, KL, CGAN_FD} <= set(bars), f"{prof}: {sorted(bars)}"
        assert all(b.why for b in bars.values())
    assert RECOGNISED in checks.bars_for("08", "full")
    full, quick = checks.bars_for("08", "full"), checks.bars_for("08", "quick")
    # well below the popular recipes' ~55x the floor (the developers' target is 10x; see the bar's reason)
    assert full[FD].op == "<=" and full[FD].threshold < 20.0
    assert quick[FD].threshold >= full[FD].threshold and quick[KL].threshold >= full[KL].threshold


def _judged(name, directory):
    """A small CNN judge trained in seconds on 3,000 training images of data set ``name``, the notebook's test
    halves A and B of the first 2,000 test images (the quick profile's test set), and a quality function."""
    import keras

    from labutils import classifiers, data

    with data_dir(directory):
        (x_train, y_train), (x_test, _) = data.load_dataset(name, scale=True, channel_axis=True,
                                                            n_train=3000, n_test=2000, verbose=False)
    keras.utils.set_random_seed(0)
    judge = classifiers.cnn_classifier(filters=(16, 32), dense_units=64, augment=False)
    classifiers.train_classifier(judge, x_train, y_train, epochs=2, batch_size=32, learning_rate=3e-3, verbose=0)
    order = np.random.default_rng(2008).permutation(len(x_test))  # the notebook's split
    half_a, half_b = x_test[order[:1000]], x_test[order[1000:2000]]
    stats_a = metrics.feature_statistics(metrics.judge_outputs(judge, half_a)[0])
    floor = metrics.frechet_distance(*metrics.feature_statistics(metrics.judge_outputs(judge, half_b)[0]), *stats_a)

    def quality(images):
        f, p = metrics.judge_outputs(judge, images)
        ratio = metrics.frechet_distance(*metrics.feature_statistics(f), *stats_a) / floor
        return ratio, metrics.kl_to_uniform(metrics.class_histogram(p)), p

    return quality, x_train, y_train, half_b


@pytest.fixture(scope="module")
def judged(mnist_dir):
    """The small judge on MNIST's offline split."""
    return _judged("mnist", mnist_dir)


def _misses(metric, value, label="this baseline"):
    assert_misses("08", metric, value, label)


def test_noise_generator_misses_the_fd_bars(judged):
    quality = judged[0]
    noise = np.random.default_rng(0).random((1000, 28, 28, 1)).astype(np.float32)
    ratio, _, _ = quality(noise)
    _misses(FD, ratio)
    _misses(CGAN_FD, ratio)


def test_single_digit_generator_misses_the_fd_and_coverage_bars(judged):
    quality, x_train, y_train, _ = judged
    for digit in (1, 7):
        ratio, kl, _ = quality(x_train[y_train == digit][:1000])  # perfect images, one class: mode collapse
        _misses(FD, ratio)
        _misses(KL, kl)


def test_untrained_generator_misses_the_bars(judged):
    quality = judged[0]
    model = gan.build_gan(64, seed=0)
    ratio, kl, _ = quality(model.generate(1000, seed=0))
    _misses(FD, ratio, "an untrained generator")
    _misses(KL, kl, "an untrained generator")  # its samples are near-identical blobs: one or two classes


def test_cgan_that_ignores_its_label_misses_the_recognition_bar(judged):
    quality, x_train, y_train, _ = judged
    asked = np.repeat(np.arange(10), 100)
    _, _, p = quality(x_train[:1000])  # good digits, but not the ones asked for
    _misses(RECOGNISED, float(np.mean(p.argmax(axis=1) == asked)))


def test_label_blind_decoder_misses_lab07s_recognition_bar(judged):
    """Lab 07's conditional VAE is judged like the cGAN: 'CVAE recognised as requested' is the share of samples
    the judge labels as asked. Images that ignore the label asked for (real digits in their own order) score
    about 0.10 and miss it in both profiles; the same images asked for their true labels pass."""
    quality, x_train, y_train, _ = judged
    asked = np.repeat(np.arange(10), 100)
    _, _, p = quality(x_train[:1000])
    assert_misses("07", "CVAE recognised as requested", float(np.mean(p.argmax(axis=1) == asked)),
                  "a decoder that ignores the label")
    honest = float(np.mean(p.argmax(axis=1) == y_train[:1000]))
    for prof in ("full", "quick"):
        assert checks.bars_for("07", prof)["CVAE recognised as requested"].passes(honest), (prof, honest)


def test_real_images_clear_the_quality_bars(judged):
    """A generator as good as the data (real training images) passes: the bars are reachable."""
    quality, x_train, _, _ = judged
    ratio, kl, _ = quality(x_train[:1000])
    for prof in ("full", "quick"):
        bars = checks.bars_for("08", prof)
        bars[FD].check(FD, ratio)
        bars[KL].check(KL, kl)


# ------------------------------------------------------------------ Fashion-MNIST (quick bars)

def _fashion_bars():
    return checks.bars_for("08", "quick", dataset="fashion_mnist")


def _fashion_misses(metric, value, label="this baseline"):
    """Every Fashion-MNIST profile with a bar on ``metric`` (the small judge stands in for the lab's)."""
    assert_misses("08", metric, value, label, dataset="fashion_mnist")


def test_lab08_has_fashion_quick_bars_with_reasons():
    bars = _fashion_bars()
    assert set(checks.bars_for("08", "quick")) <= set(bars), "at least the metrics of MNIST's quick bars"
    assert all(b.why and "provisional" not in b.why for b in bars.values()), "every bar says where it comes from"
    assert bars[FD].op == "<=" and bars[KL].op == "<=" and bars[CGAN_FD].op == "<="


@pytest.fixture(scope="module")
def fashion_judged(fashion_dir):
    """As ``judged``, on Fashion-MNIST."""
    return _judged("fashion_mnist", fashion_dir)


def test_fashion_noise_and_untrained_generators_miss_the_fd_bars(fashion_judged):
    quality = fashion_judged[0]
    noise = np.random.default_rng(0).random((1000, 28, 28, 1)).astype(np.float32)
    ratio, _, _ = quality(noise)
    _fashion_misses(FD, ratio)
    _fashion_misses(CGAN_FD, ratio)
    ratio, kl, _ = quality(gan.build_gan(64, seed=0).generate(1000, seed=0))
    _fashion_misses(FD, ratio, "an untrained generator")
    _fashion_misses(CGAN_FD, ratio, "an untrained generator")
    _fashion_misses(KL, kl, "an untrained generator")


def test_fashion_single_class_generator_misses_the_fd_and_coverage_bars(fashion_judged):
    quality, x_train, y_train, _ = fashion_judged
    for k in (1, 7):  # trousers, sneakers: perfect images, one class (mode collapse)
        ratio, kl, _ = quality(x_train[y_train == k][:1000])
        _fashion_misses(FD, ratio)
        _fashion_misses(KL, kl)


def test_fashion_real_images_clear_the_quality_bars(fashion_judged):
    """A generator as good as the data (real training images) passes: the bars are reachable."""
    quality, x_train, _, _ = fashion_judged
    ratio, kl, _ = quality(x_train[:1000])
    for prof in ("quick", "full"):
        bars = checks.bars_for("08", prof, dataset="fashion_mnist")
        bars[FD].check(FD, ratio)
        bars[KL].check(KL, kl)
        bars[CGAN_FD].check(CGAN_FD, ratio)


def test_fashion_cgan_that_ignores_its_label_misses_the_recognition_bar(fashion_judged):
    quality, x_train, _, _ = fashion_judged
    asked = np.repeat(np.arange(10), 100)
    _, _, p = quality(x_train[:1000])  # good images, but not the classes asked for
    _fashion_misses(RECOGNISED, float(np.mean(p.argmax(axis=1) == asked)))
