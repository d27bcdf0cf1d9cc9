"""The parameter counts stated on the experiment's model page, for the models the experiment builds."""

from labml_nn.optimizers import experiment
from labml_nn.optimizers.experiment_data import VOCAB_SIZE


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_digits_cnn_has_the_stated_parameter_count():
    # The experiment's own constructor, with the full protocol's budget
    model = experiment.TASKS["digits"].make_model(experiment.FULL.budgets["digits"])
    assert count(model) == 38_282
    # `fc1`, the one matrix Muon drives on the CNN: $512 \times 64 + 64$
    assert count(model.fc1) == 32_832


def test_char_transformer_has_the_stated_parameter_count():
    assert VOCAB_SIZE == 97
    model = experiment.TASKS["text"].make_model(experiment.FULL.budgets["text"])
    # The experiment's context is the class's default, 64, so the count is the page's "with the defaults"
    assert model.context == 64
    assert count(model) == 116_705
