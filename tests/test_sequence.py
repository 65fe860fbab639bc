"""labutils.sequence: the row-by-row GRU encoder and decoder, the sequence autoencoder and the VRAE (inside
labutils.vae.VAE) on tiny GRUs, saving with safe_mode=True, and the errors for bad input. One small architecture,
a few steps: fast on TensorFlow, JAX and PyTorch."""
import keras
import numpy as np
import pytest

from labutils import sequence, vae

UNITS = 4    # tiny GRUs: what is tested is the wiring, not the quality
LATENT = 3


def _images(n=20, seed=0):
    """Tiny batch of 28x28 'images' in [0, 1]: a bright band on a random row, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.2, (n, 28, 28))
    for i, r in enumerate(rng.integers(0, 28, n)):
        x[i, r] = 1.0
    return x.astype(np.float32)


def test_rows_and_flat_views_agree_and_refuse_other_images():
    x = _images(3)
    assert sequence.as_rows(x.reshape(3, 784)).shape == (3, 28, 28)
    assert np.array_equal(sequence.as_flat(x), x.reshape(3, 784))
    assert np.array_equal(sequence.as_flat(x[..., None]), x.reshape(3, 784))
    assert np.array_equal(sequence.as_rows(x.reshape(3, 784))[1, 5], x[1, 5]), "step t is row t"
    with pytest.raises(ValueError, match="28x28"):
        sequence.as_rows(np.zeros((2, 16, 16), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sequence.as_flat(x * 255)
    with pytest.raises(ValueError, match="single unbatched"):
        sequence.as_flat(np.zeros(784, np.float32))
    with pytest.raises(TypeError, match="numeric"):
        sequence.as_flat(np.array([["a"]], dtype=object))


def test_encoder_reads_28_rows_and_decoder_writes_them():
    enc = sequence.recurrent_encoder(LATENT, units=UNITS)
    dec = sequence.recurrent_decoder(LATENT, units=UNITS)
    assert tuple(enc.input.shape) == (None, 784) and tuple(enc.output.shape) == (None, LATENT)
    assert tuple(enc.get_layer("rows").output.shape) == (None, 28, 28)
    assert tuple(dec.get_layer("decoder_gru").output.shape) == (None, 28, UNITS), "one output per row"
    assert tuple(dec.output.shape) == (None, 784)
    gru_weights = sum(int(np.prod(w.shape)) for w in enc.get_layer("encoder_gru").weights)
    assert gru_weights == 3 * (28 * UNITS + UNITS * UNITS + 2 * UNITS), "the GRU formula of the lab's text"
    var_enc = sequence.recurrent_encoder(LATENT, units=UNITS, variational=True)
    assert [o.shape[-1] for o in var_enc.outputs] == [LATENT, LATENT]


def test_the_code_depends_on_row_order():
    keras.utils.set_random_seed(0)
    enc = sequence.recurrent_encoder(LATENT, units=UNITS)
    x = _images(4)
    flipped = x[:, ::-1, :].copy()
    a, b = (keras.ops.convert_to_numpy(enc(sequence.as_flat(v))) for v in (x, flipped))
    assert not np.allclose(a, b), "a recurrent encoder reads the rows in order"


def test_sequence_autoencoder_trains_reconstructs_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    x = sequence.as_flat(_images(40))
    ae, enc, dec = sequence.build_recurrent_autoencoder(LATENT, units=UNITS, learning_rate=1e-2)
    before = ae.evaluate(x, x, verbose=0)
    ae.fit(x, x, epochs=4, batch_size=20, verbose=0)
    after = ae.evaluate(x, x, verbose=0)
    assert np.isfinite(after) and after < before
    r = sequence.reconstruct(ae, x.reshape(-1, 28, 28))
    assert r.shape == (40, 784) and r.dtype == np.float32 and 0 < r.min() and r.max() < 1
    path = tmp_path / "rae.keras"
    ae.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(sequence.reconstruct(loaded, x), r, atol=1e-5)


def test_vrae_is_a_vae_whose_elbo_step_trains_the_recurrent_networks(tmp_path):
    keras.utils.set_random_seed(0)
    x = sequence.as_flat(_images(40))
    model = sequence.build_vrae(LATENT, units=UNITS, learning_rate=1e-2, seed=0)
    assert isinstance(model, vae.VAE) and not model.binarize_inputs
    gru_before = keras.ops.convert_to_numpy(model.encoder.get_layer("encoder_gru").weights[0]).copy()
    history = model.fit(x, epochs=3, batch_size=20, verbose=0)
    assert set(history.history) >= {"loss", "reconstruction", "kl"}
    assert all(np.isfinite(history.history["loss"]))
    assert not np.allclose(gru_before, keras.ops.convert_to_numpy(model.encoder.get_layer("encoder_gru").weights[0]))
    r = sequence.reconstruct(model, x[:5])
    assert r.shape == (5, 784) and 0 <= r.min() and r.max() <= 1
    path = tmp_path / "vrae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(sequence.reconstruct(loaded, x[:5]), r, atol=1e-5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: sequence.recurrent_encoder(0), ValueError, "latent_dim must be positive"),
    (lambda: sequence.recurrent_encoder(3, units=2.0), TypeError, "units must be an int"),
    (lambda: sequence.recurrent_encoder(3, variational=1), TypeError, "variational must be True or False"),
    (lambda: sequence.recurrent_encoder(3, variational=True, log_var_limit=0), ValueError, "log_var_limit"),
    (lambda: sequence.recurrent_decoder(True), TypeError, "latent_dim must be an int"),
    (lambda: sequence.build_recurrent_autoencoder(3, units=2, learning_rate=0.0), ValueError, "learning_rate"),
    (lambda: sequence.build_vrae(3, units=2, seed=-1), ValueError, "seed"),
    (lambda: sequence.reconstruct("model", np.zeros((1, 784), np.float32)), TypeError, "keras.Model"),
])
def test_bad_arguments_are_refused_with_their_names(call, error, match):
    with pytest.raises(error, match=match):
        call()
