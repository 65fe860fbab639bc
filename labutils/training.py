"""The one training recipe of the labs' Keras models: Adam, with a cosine-decayed or a constant learning rate.

:func:`labutils.autoencoders.fit_autoencoder` and
:func:`labutils.classifiers.train_classifier` check their data and call
:func:`fit_adam`, so that autoencoders and classifiers train the same way.
"""
from __future__ import annotations

import keras

__all__ = ["fit_adam"]


def fit_adam(model, x, y, *, loss, epochs: int, batch_size: int, learning_rate, cosine: bool = True, metrics=None,
             validation_data=None, verbose="auto"):
    """Compile ``model`` with Adam and ``loss`` and fit it for ``epochs`` epochs, shuffling every epoch.

    With ``cosine=True`` the learning rate falls from ``learning_rate`` to 0 over
    the run's ``epochs * ceil(n / batch_size)`` gradient steps
    (``keras.optimizers.schedules.CosineDecay``; Loshchilov & Hutter, "SGDR",
    ICLR 2017): the last epoch's weights are then stable, so no epoch has to be
    picked by looking at test data. With ``cosine=False`` Adam keeps
    ``learning_rate`` (a number or a Keras schedule) as given.

    The callers check the arguments; this function does not.

    Args:
        model: a Keras model.
        x, y: training inputs and targets (arrays of equal length ``n``).
        loss: a Keras loss (name or object).
        epochs: number of epochs, a positive int.
        batch_size: minibatch size, a positive int (at most ``n``).
        learning_rate: Adam's (initial) learning rate, a positive finite number;
            with ``cosine=False`` also a Keras schedule.
        cosine: decay the learning rate to 0 along a cosine.
        metrics: Keras metrics to compile with (e.g. ``["accuracy"]``), or None.
        validation_data: ``(x_val, y_val)`` or None; watched only.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The Keras ``History``.
    """
    if cosine:
        steps = epochs * -(-len(x) // batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, validation_data=validation_data,
                     verbose=verbose)
